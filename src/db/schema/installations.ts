import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

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
  },
  (t) => [
    // Keyset pagination: newest first, with instance_id as the tie-breaker.
    index('installations_installed_idx').on(t.installedAt, t.instanceId),
    index('installations_status_installed_idx').on(t.status, t.installedAt, t.instanceId),
  ],
);

export type InstallationRow = typeof installations.$inferSelect;
export type NewInstallationRow = typeof installations.$inferInsert;
