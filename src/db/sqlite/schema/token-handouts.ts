import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Audit of access-token requests over the API: who asked for which instance, when, and the answer. Never the token. */
export const tokenHandouts = sqliteTable(
  'token_handouts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** Fingerprint of the API key (see apiKeyFingerprint), never the key. */
    apiKeyId: text('api_key_id').notNull(),
    instanceId: text('instance_id').notNull(),
    requestedAt: integer('requested_at').notNull(),
    outcome: text('outcome', { enum: ['issued', 'unknown_instance', 'removed_instance', 'refused', 'failed'] }).notNull(),
    /** Expiry of the token handed out, when one was. */
    tokenExpiresAt: integer('token_expires_at'),
    requestId: text('request_id'),
  },
  // The audit is read newest first (GET /v1/audit/token-handouts): by instance, by key, or all of
  // it by time. Each index ends in requested_at (and the rowid), so every filter is an index range
  // in the order asked for. requested_at grows with time: new rows land at the end of each.
  (t) => [
    index('token_handouts_instance_idx').on(t.instanceId, t.requestedAt),
    index('token_handouts_key_idx').on(t.apiKeyId, t.requestedAt),
    index('token_handouts_time_idx').on(t.requestedAt),
  ],
);

export type TokenHandoutRow = typeof tokenHandouts.$inferSelect;
