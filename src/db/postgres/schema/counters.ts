import { bigint, pgTable, text } from 'drizzle-orm/pg-core';

/**
 * Row counts kept by triggers (migrations/postgres, the custom migration after the tables) on
 * installations (by status) and outbox_jobs (by status), so /v1/stats reads a few rows instead of counting a million.
 * Names: `installations.<status>`, `outbox.<status>`.
 */
export const registryCounters = pgTable('registry_counters', {
  name: text('name').primaryKey(),
  value: bigint('value', { mode: 'number' }).notNull().default(0),
});
