import { bigint, boolean, pgTable, text } from 'drizzle-orm/pg-core';

/**
 * The URLs changes are pushed to (REGISTRY_EVENT_ENDPOINTS, as the server last started with them)
 * and how each is doing. A change's transaction enqueues one push job per active endpoint (so the
 * CLI's writes, which do not read the server's configuration, push too); the outcome of each
 * attempt updates the endpoint's health here, so the dashboard and /v1/stats read a few rows.
 */
export const pushEndpoints = pgTable('push_endpoints', {
  url: text('url').primaryKey(),
  /** 1 while the URL is in REGISTRY_EVENT_ENDPOINTS; an endpoint removed from it keeps its history. */
  active: boolean('active').notNull().default(true),
  addedAt: bigint('added_at', { mode: 'number' }).notNull(),
  lastSuccessAt: bigint('last_success_at', { mode: 'number' }),
  lastFailureAt: bigint('last_failure_at', { mode: 'number' }),
  lastError: text('last_error'),
  /** Failed attempts since the last success. */
  consecutiveFailures: bigint('consecutive_failures', { mode: 'number' }).notNull().default(0),
  /** Every attempt that failed, and every one that succeeded (changes delivered). */
  failedAttempts: bigint('failed_attempts', { mode: 'number' }).notNull().default(0),
  delivered: bigint('delivered', { mode: 'number' }).notNull().default(0),
});
