import { bigint, index, pgTable, text } from 'drizzle-orm/pg-core';

/** Audit of access-token requests over the API: who asked for which instance, when, and the answer. Never the token. */
export const tokenHandouts = pgTable(
  'token_handouts',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    /** Fingerprint of the API key (see apiKeyFingerprint), never the key. */
    apiKeyId: text('api_key_id').notNull(),
    instanceId: text('instance_id').notNull(),
    requestedAt: bigint('requested_at', { mode: 'number' }).notNull(),
    outcome: text('outcome', { enum: ['issued', 'unknown_instance', 'removed_instance', 'refused', 'failed'] }).notNull(),
    /** Expiry of the token handed out, when one was. */
    tokenExpiresAt: bigint('token_expires_at', { mode: 'number' }),
    requestId: text('request_id'),
  },
  // The audit is read newest first (GET /v1/audit/token-handouts): by instance, by key, or all of
  // it by time. Each index ends in requested_at (and the id), so every filter is an index range
  // in the order asked for. requested_at grows with time: new rows land at the end of each.
  (t) => [
    index('token_handouts_instance_idx').on(t.instanceId, t.requestedAt),
    index('token_handouts_key_idx').on(t.apiKeyId, t.requestedAt),
    index('token_handouts_time_idx').on(t.requestedAt),
  ],
);

export type TokenHandoutRow = typeof tokenHandouts.$inferSelect;
