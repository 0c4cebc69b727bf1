import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * Row counts kept by triggers (migrations/0004_counter_triggers.sql) on installations (by status)
 * and outbox_jobs (by status), so /v1/stats reads a few rows instead of counting a million.
 * Names: `installations.<status>`, `outbox.<status>`.
 */
export const registryCounters = sqliteTable('registry_counters', {
  name: text('name').primaryKey(),
  value: integer('value').notNull().default(0),
});
