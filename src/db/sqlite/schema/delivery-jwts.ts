import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * The raw JWT of each delivery, byte for byte (replay, audit), apart from the delivery row, until
 * RAW_DELIVERY_RETENTION_DAYS after it was received (src/installations/retention.ts). Its own
 * table because in SQLite that is what makes pruning give space back: rows here are keyed by the
 * delivery's id, so the JWTs of one period fill whole pages, and deleting them frees those pages
 * for new rows of any table. Blanking a column inside the delivery rows would only leave holes in
 * pages that new deliveries (appended at the end) never fill; only a VACUUM, which locks out the
 * writer for as long as it copies the file, would get that space back.
 */
export const deliveryJwts = sqliteTable('delivery_jwts', {
  /** deliveries.id (the rowid: appended in delivery order). */
  deliveryId: integer('delivery_id').primaryKey(),
  jwt: text('jwt').notNull(),
});
