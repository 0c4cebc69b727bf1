import { sql, type SQL } from 'drizzle-orm';
import { index, integer, sqliteTable, text, type SQLiteColumn } from 'drizzle-orm/sqlite-core';

/**
 * An installation's plan tier, as the `plan=free|paid` filter of GET /v1/installations reads it:
 * `paid` when Wix says the instance is not free (is_free = 0, from Get App Instance) or a paid-plan
 * event named a product (plan_vendor_product_id); `free` otherwise, which includes instances Wix
 * has not described yet (is_free NULL, no plan event). A product id from an old plan event still
 * counts as paid even once is_free = 1 (that is the definition asked for; see queries.ts).
 *
 * One expression, used by the index below and by the query, because SQLite uses an expression
 * index only when the query's expression is the same one.
 */
export function planTierSql(columns: { isFree: SQLiteColumn | SQL; planVendorProductId: SQLiteColumn | SQL }): SQL {
  return sql`(CASE WHEN ${columns.isFree} = 0 OR ${columns.planVendorProductId} IS NOT NULL THEN 'paid' ELSE 'free' END)`;
}

/**
 * Current state of each app instance, derived from its event history (see
 * src/installations/state-machine.ts) plus what the outbox later learns from Wix.
 * All times are Unix epoch milliseconds (UTC).
 */
export const installations = sqliteTable(
  'installations',
  {
    instanceId: text('instance_id').primaryKey(),
    appId: text('app_id'),
    status: text('status', { enum: ['active', 'removed'] }).notNull(),
    /** iat of the AppInstalled that started the current installation, or, when no install was
     *  ever received (installed before the registry listened), the earliest event's iat. */
    installedAt: integer('installed_at').notNull(),
    installedAtInferred: integer('installed_at_inferred', { mode: 'boolean' }).notNull().default(false),
    removedAt: integer('removed_at'),
    originInstanceId: text('origin_instance_id'),
    /** iat of the newest event folded into this row. */
    lastEventAt: integer('last_event_at').notNull(),
    firstSeenAt: integer('first_seen_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    /** When Wix accepted APP_FINISHED_CONFIGURATION for the current installation. */
    configuredAt: integer('configured_at'),
    // Plan, from the paid-plan events.
    planVendorProductId: text('plan_vendor_product_id'),
    planCycle: text('plan_cycle'),
    planExpiresOn: text('plan_expires_on'),
    planAutoRenewing: integer('plan_auto_renewing', { mode: 'boolean' }),
    planChangedAt: integer('plan_changed_at'),
    // Site, from the webhook's accountInfo and from Wix's Get App Instance.
    siteId: text('site_id'),
    accountId: text('account_id'),
    siteName: text('site_name'),
    siteUrl: text('site_url'),
    appVersion: text('app_version'),
    isFree: integer('is_free', { mode: 'boolean' }),
    siteSyncedAt: integer('site_synced_at'),
    /** When Wix last confirmed the installation by issuing a token for it (import, reconciliation). */
    checkedAt: integer('checked_at'),
  },
  (t) => [
    // Keyset pagination: newest first, with instance_id as the tie-breaker.
    index('installations_installed_idx').on(t.installedAt, t.instanceId),
    index('installations_status_installed_idx').on(t.status, t.installedAt, t.instanceId),
    // The list filters and sorts of GET /v1/installations (src/installations/queries.ts): each
    // sort key has an index that ends in instance_id (the keyset's tie-breaker), and the
    // equality filters lead an index of their own so a page is an index range, not a scan.
    // None is keyed by something random for a new install (the webhook hot path): a new row
    // lands at the end of each, or, for the partial ones, in none.
    index('installations_removed_idx')
      .on(t.removedAt, t.instanceId)
      .where(sql`${t.removedAt} IS NOT NULL`),
    index('installations_updated_idx').on(t.updatedAt, t.instanceId),
    index('installations_plan_tier_installed_idx').on(planTierSql(t), t.installedAt, t.instanceId),
    index('installations_plan_product_installed_idx')
      .on(t.planVendorProductId, t.installedAt, t.instanceId)
      .where(sql`${t.planVendorProductId} IS NOT NULL`),
  ],
);

export type InstallationRow = typeof installations.$inferSelect;
export type NewInstallationRow = typeof installations.$inferInsert;
