import { bigint, pgTable, text } from 'drizzle-orm/pg-core';

/**
 * The shared token row of each instance (issue 9): the access token the replicas share, so Wix
 * sees one token request per instance per token lifetime across all of them. `sealed` is
 * AES-256-GCM ciphertext made above the store (src/wix/token-sealing.ts), never a token in clear;
 * `key_id` names the key (derived from the app secret), so rows sealed before the secret rotated
 * are read as missing. Written only by src/db/postgres/shared-tokens.ts, under the instance's
 * advisory lock. SQLite has no such table: its one process holds the only token cache.
 */
export const accessTokens = pgTable('access_tokens', {
  instanceId: text('instance_id').primaryKey(),
  sealed: text('sealed').notNull(),
  keyId: text('key_id').notNull(),
  /** When Wix said the token expires, epoch ms (also bound into the seal). */
  expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
});
