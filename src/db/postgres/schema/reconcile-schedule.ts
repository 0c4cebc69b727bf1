import { bigint, pgTable, text } from 'drizzle-orm/pg-core';

/**
 * The server's scheduled reconciliation walk (src/reconcile/scheduler.ts): one row per walk. A
 * process takes the lease before checking a slice and gives it back with the walk's new position,
 * so with several processes on one database exactly one checks at a time, and the walk goes on
 * where the last one left it. Times are epoch ms.
 */
export const reconcileSchedule = pgTable('reconcile_schedule', {
  name: text('name').primaryKey(),
  /** Where the walk stands: the position after the last installation looked at (JSON); null = the start. */
  cursor: text('cursor'),
  /** Which process holds the lease, until when. */
  leaseOwner: text('lease_owner'),
  leaseUntil: bigint('lease_until', { mode: 'number' }).notNull().default(0),
  /** The next slice is not taken before this. */
  nextRunAt: bigint('next_run_at', { mode: 'number' }).notNull().default(0),
  /** Why the last slice stopped early (safety), if it did. */
  lastStop: text('last_stop'),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
});
