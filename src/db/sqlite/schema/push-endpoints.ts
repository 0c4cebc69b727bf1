import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * The URLs changes are pushed to (REGISTRY_EVENT_ENDPOINTS, as the server last started with them)
 * and how each is doing. A change's transaction enqueues one push job per active endpoint (so the
 * CLI's writes, which do not read the server's configuration, push too); the outcome of each
 * attempt updates the endpoint's health here, so the dashboard and /v1/stats read a few rows.
 */
export const pushEndpoints = sqliteTable('push_endpoints', {
  url: text('url').primaryKey(),
  /** 1 while the URL is in REGISTRY_EVENT_ENDPOINTS; an endpoint removed from it keeps its history. */
  active: integer('active', { mode: 'boolean' }).notNull().default(true),
  addedAt: integer('added_at').notNull(),
  lastSuccessAt: integer('last_success_at'),
  lastFailureAt: integer('last_failure_at'),
  lastError: text('last_error'),
  /** Failed attempts since the last success. */
  consecutiveFailures: integer('consecutive_failures').notNull().default(0),
  /** Every attempt that failed, and every one that succeeded (changes delivered). */
  failedAttempts: integer('failed_attempts').notNull().default(0),
  delivered: integer('delivered').notNull().default(0),
});
