import { bigint, pgTable, text } from 'drizzle-orm/pg-core';

/**
 * The raw JWT of each delivery, byte for byte (replay, audit), apart from the delivery row, until
 * RAW_DELIVERY_RETENTION_DAYS after it was received (src/installations/retention.ts). Its own
 * table, as on SQLite (src/db/sqlite/schema/delivery-jwts.ts): the JWT is most of a delivery's
 * bytes, and deleting whole rows here lets autovacuum hand the space to new rows, TOAST included.
 */
export const deliveryJwts = pgTable('delivery_jwts', {
  /** deliveries.id. */
  deliveryId: bigint('delivery_id', { mode: 'number' }).primaryKey(),
  jwt: text('jwt').notNull(),
});
