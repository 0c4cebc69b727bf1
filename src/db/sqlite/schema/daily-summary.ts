import { integer, sqliteTable } from 'drizzle-orm/sqlite-core';

/**
 * Per UTC day, what GET /v1/stats/daily shows, kept up to date as deliveries are written so a
 * year of stats reads 366 rows (src/installations/daily-summary.ts explains each figure).
 * installs, removals and churn_* are added by the ingest transaction; active_delta (+1 on the
 * day of an installation's installed_at, −1 on the day of its removed_at) by triggers on
 * installations (migrations/sqlite/0008).
 */
export const dailySummary = sqliteTable('daily_summary', {
  /** Days since the epoch (UTC). */
  day: integer('day').primaryKey(),
  installs: integer('installs').notNull().default(0),
  removals: integer('removals').notNull().default(0),
  activeDelta: integer('active_delta').notNull().default(0),
  churn1d: integer('churn_1d').notNull().default(0),
  churn7d: integer('churn_7d').notNull().default(0),
  churn30d: integer('churn_30d').notNull().default(0),
});
