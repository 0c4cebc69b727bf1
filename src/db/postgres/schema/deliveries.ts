import { bigint, index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import type { EventPayload } from '../../../installations/model.ts';

/**
 * Every verified webhook delivery, exactly as Wix sent it, and the instance's history: one row
 * per delivery, with its parsed layers (`payload`). Wix events carry no event id, and a Wix
 * resend is the identical JWT, so the SHA-256 of the raw token is the dedupe key.
 *
 * The registry's own checks with Wix (import, reconciliation) are rows here too, so the history
 * is one table the state machine folds (docs/decisions/0010): `source` says who recorded the row
 * (it has no row in delivery_jwts: Wix sent nothing), and `jwt_sha256` holds a key that can never be a SHA-256
 * (`reconcile:<eventType>:<instanceId>:<check time>`), so recording one check twice is a duplicate.
 */
export const deliveries = pgTable(
  'deliveries',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    jwtSha256: text('jwt_sha256').notNull().unique(),
    eventType: text('event_type').notNull(),
    instanceId: text('instance_id').notNull(),
    /** The JWT's iat, in epoch ms. */
    issuedAt: bigint('issued_at', { mode: 'number' }).notNull(),
    receivedAt: bigint('received_at', { mode: 'number' }).notNull(),
    /** applied: changed the installation; stale: older than the state it would change;
     *  ignored: an event type the registry does not act on (kept anyway). */
    outcome: text('outcome', { enum: ['applied', 'stale', 'ignored'] }).notNull(),
    /** The event's inner data (layer B), identity (layer C) and accountInfo. Null never on PostgreSQL (the column mirrors SQLite's, where old rows lack it). */
    payload: jsonb('payload').$type<EventPayload>(),
    /** wix: a verified webhook; reconcile / import: a check the registry made with Wix. */
    source: text('source', { enum: ['wix', 'reconcile', 'import'] })
      .notNull()
      .default('wix'),
  },
  // The history of an instance, in iat order: what the state machine folds on every delivery.
  (t) => [index('deliveries_instance_idx').on(t.instanceId, t.issuedAt)],
);
