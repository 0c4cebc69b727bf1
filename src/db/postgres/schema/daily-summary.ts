import { bigint, pgTable } from 'drizzle-orm/pg-core';

/**
 * Per UTC day, what GET /v1/stats/daily shows, kept up to date as deliveries are written so a
 * year of stats reads 366 rows (src/installations/daily-summary.ts explains each figure).
 * installs, removals and churn_* are added by the ingest transaction; active_delta (+1 on the
 * day of an installation's installed_at, −1 on the day of its removed_at) by triggers on
 * installations (the custom PostgreSQL migration).
 */
export const dailySummary = pgTable('daily_summary', {
  /** Days since the epoch (UTC). */
  day: bigint('day', { mode: 'number' }).primaryKey(),
  installs: bigint('installs', { mode: 'number' }).notNull().default(0),
  removals: bigint('removals', { mode: 'number' }).notNull().default(0),
  activeDelta: bigint('active_delta', { mode: 'number' }).notNull().default(0),
  churn1d: bigint('churn_1d', { mode: 'number' }).notNull().default(0),
  churn7d: bigint('churn_7d', { mode: 'number' }).notNull().default(0),
  churn30d: bigint('churn_30d', { mode: 'number' }).notNull().default(0),
});
