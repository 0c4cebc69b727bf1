import { bigint, pgTable, text } from 'drizzle-orm/pg-core';

/**
 * Open dashboard sessions (src/dashboard/sessions.ts). A row is the session: sign-out, the
 * admin command and removing the key from REGISTRY_API_KEYS delete it, and the cookie opens
 * nothing from then on. The cookie's session id is never stored, only its SHA-256, so a copy
 * of the database (a backup) cannot be turned into a working cookie.
 */
export const dashboardSessions = pgTable('dashboard_sessions', {
  /** SHA-256 (hex) of the random session id the cookie carries. */
  idHash: text('id_hash').primaryKey(),
  /** Fingerprint of the API key that signed in (apiKeyFingerprint), never the key. */
  apiKeyId: text('api_key_id').notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
});
