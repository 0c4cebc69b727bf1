import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * Every verified webhook delivery, exactly as Wix sent it. Wix events carry no event id, and a
 * Wix resend is the identical JWT, so the SHA-256 of the raw token is the dedupe key.
 */
export const deliveries = sqliteTable(
  'deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    jwtSha256: text('jwt_sha256').notNull().unique(),
    jwt: text('jwt').notNull(),
    eventType: text('event_type').notNull(),
    instanceId: text('instance_id').notNull(),
    /** The JWT's iat, in epoch ms. */
    issuedAt: integer('issued_at').notNull(),
    receivedAt: integer('received_at').notNull(),
    /** applied: changed the installation; stale: older than the state it would change;
     *  ignored: an event type the registry does not act on (kept anyway). */
    outcome: text('outcome', { enum: ['applied', 'stale', 'ignored'] }).notNull(),
  },
  // No index on instance_id: nothing on the webhook path reads by it, and a random-keyed index
  // costs a page write per delivery (history reads go through installation_events).
);

export type DeliveryRow = typeof deliveries.$inferSelect;
