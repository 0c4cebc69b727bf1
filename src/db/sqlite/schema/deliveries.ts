import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import type { EventPayload } from '../../../installations/model.ts';

/**
 * Every verified webhook delivery, exactly as Wix sent it, and the instance's history: one row
 * per delivery, with its parsed layers (`payload`). Wix events carry no event id, and a Wix
 * resend is the identical JWT, so the SHA-256 of the raw token is the dedupe key.
 *
 * The registry's own checks with Wix (import, reconciliation) are rows here too, so the history
 * is one table the state machine folds (docs/decisions/0010): `source` says who recorded the row,
 * `jwt` is empty (Wix sent nothing), and `jwt_sha256` holds a key that can never be a SHA-256
 * (`reconcile:<eventType>:<instanceId>:<check time>`), so recording one check twice is a duplicate.
 */
export const deliveries = sqliteTable(
  'deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    jwtSha256: text('jwt_sha256').notNull().unique(),
    /**
     * The raw token of a delivery stored before delivery_jwts existed (migration 0012), until
     * retention prunes it; '' for every later delivery (its JWT is in delivery_jwts), once pruned,
     * and for the registry's own events (Wix sent nothing). Kept rather than moved: moving every
     * stored JWT would rewrite the largest table at start-up. Pruning a JWT here frees space inside
     * pages only (a VACUUM gives it back to the file).
     */
    jwt: text('jwt').notNull(),
    eventType: text('event_type').notNull(),
    instanceId: text('instance_id').notNull(),
    /** The JWT's iat, in epoch ms. */
    issuedAt: integer('issued_at').notNull(),
    receivedAt: integer('received_at').notNull(),
    /** applied: changed the installation; stale: older than the state it would change;
     *  ignored: an event type the registry does not act on (kept anyway). */
    outcome: text('outcome', { enum: ['applied', 'stale', 'ignored'] }).notNull(),
    /** The event's inner data (layer B), identity (layer C) and accountInfo, as JSON. Null only
     *  on rows stored before the history moved into this table (migration 0008 fills them). */
    payload: text('payload', { mode: 'json' }).$type<EventPayload>(),
    /** wix: a verified webhook; reconcile / import: a check the registry made with Wix. */
    source: text('source', { enum: ['wix', 'reconcile', 'import'] })
      .notNull()
      .default('wix'),
  },
  // The history of an instance, in iat order: what the state machine folds on every delivery.
  (t) => [index('deliveries_instance_idx').on(t.instanceId, t.issuedAt)],
);
