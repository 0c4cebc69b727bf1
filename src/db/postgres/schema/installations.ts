import { sql, type SQL } from 'drizzle-orm';
import { bigint, boolean, index, pgTable, text, type PgColumn } from 'drizzle-orm/pg-core';

/**
 * An installation's plan tier, as the `plan=free|paid` filter of GET /v1/installations reads it:
 * `paid` when Wix says the instance is not free (is_free false, from Get App Instance) or a paid-plan
 * event named a product (plan_vendor_product_id); `free` otherwise, which includes instances Wix
 * has not described yet (is_free NULL, no plan event). A product id from an old plan event still
 * counts as paid even once is_free = 1 (that is the definition asked for; see queries.ts).
 *
 * One expression, used by the index below and by the query: PostgreSQL, like SQLite, uses an
 * expression index only when the query's expression is the same one.
 */
export function planTierSql(columns: { isFree: PgColumn | SQL; planVendorProductId: PgColumn | SQL }): SQL {
  return sql`(CASE WHEN ${columns.isFree} IS FALSE OR ${columns.planVendorProductId} IS NOT NULL THEN 'paid' ELSE 'free' END)`;
}

/**
 * Current state of each app instance, derived from its event history (see
 * src/installations/state-machine.ts) plus what the outbox later learns from Wix.
 * All times are Unix epoch milliseconds (UTC).
 */
export const installations = pgTable(
  'installations',
  {
    instanceId: text('instance_id').primaryKey(),
    appId: text('app_id'),
    status: text('status', { enum: ['active', 'removed'] }).notNull(),
    /** iat of the AppInstalled that started the current installation, or, when no install was
     *  ever received (installed before the registry listened), the earliest event's iat. */
    installedAt: bigint('installed_at', { mode: 'number' }).notNull(),
    installedAtInferred: boolean('installed_at_inferred').notNull().default(false),
    removedAt: bigint('removed_at', { mode: 'number' }),
    originInstanceId: text('origin_instance_id'),
    /** iat of the newest event folded into this row. */
    lastEventAt: bigint('last_event_at', { mode: 'number' }).notNull(),
    firstSeenAt: bigint('first_seen_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
    /** When Wix accepted APP_FINISHED_CONFIGURATION for the current installation. */
    configuredAt: bigint('configured_at', { mode: 'number' }),
    // Plan, from the paid-plan events.
    planVendorProductId: text('plan_vendor_product_id'),
    planCycle: text('plan_cycle'),
    planExpiresOn: text('plan_expires_on'),
    planAutoRenewing: boolean('plan_auto_renewing'),
    planChangedAt: bigint('plan_changed_at', { mode: 'number' }),
    // Site, from the webhook's accountInfo and from Wix's Get App Instance.
    siteId: text('site_id'),
    accountId: text('account_id'),
    siteName: text('site_name'),
    siteUrl: text('site_url'),
    appVersion: text('app_version'),
    isFree: boolean('is_free'),
    siteSyncedAt: bigint('site_synced_at', { mode: 'number' }),
    /** When Wix last confirmed the installation by issuing a token for it (import, reconciliation). */
    checkedAt: bigint('checked_at', { mode: 'number' }),
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
