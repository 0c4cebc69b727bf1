import type { InstallationRecord } from './model.ts';
import { iso, isoOrNull } from './time.ts';

export { iso, isoOrNull };

/** The API's Installation: contract.md's fields, plus what is known of site and plan. */
export function toInstallation(row: InstallationRecord) {
  return {
    instanceId: row.instanceId,
    appId: row.appId,
    status: row.status,
    installedAt: iso(row.installedAt),
    /** true when installedAt is not an AppInstalled's time: the first event seen, or the registry's own check (import, reconciliation). */
    installedAtInferred: row.installedAtInferred,
    removedAt: isoOrNull(row.removedAt),
    updatedAt: iso(row.updatedAt),
    firstSeenAt: iso(row.firstSeenAt),
    lastEventAt: iso(row.lastEventAt),
    originInstanceId: row.originInstanceId,
    configuredAt: isoOrNull(row.configuredAt),
    checkedAt: isoOrNull(row.checkedAt),
    site: {
      siteId: row.siteId,
      accountId: row.accountId,
      name: row.siteName,
      url: row.siteUrl,
      syncedAt: isoOrNull(row.siteSyncedAt),
    },
    plan: {
      isFree: row.isFree,
      vendorProductId: row.planVendorProductId,
      cycle: row.planCycle,
      expiresOn: row.planExpiresOn,
      autoRenewing: row.planAutoRenewing,
      changedAt: isoOrNull(row.planChangedAt),
    },
    appVersion: row.appVersion,
  };
}

export type Installation = ReturnType<typeof toInstallation>;

/** The flat columns of the CSV export, in order. */
export const INSTALLATION_EXPORT_COLUMNS = [
  'instanceId',
  'appId',
  'status',
  'installedAt',
  'removedAt',
  'updatedAt',
  'originInstanceId',
  'configuredAt',
  'siteId',
  'siteName',
  'siteUrl',
  'planVendorProductId',
  'planCycle',
  'isFree',
  'appVersion',
] as const;

export type InstallationExportColumn = (typeof INSTALLATION_EXPORT_COLUMNS)[number];
export type InstallationExportRow = Record<InstallationExportColumn, string | boolean | null>;

/** An Installation flattened to the export's columns. */
export function toExportRow(i: Installation): InstallationExportRow {
  return {
    instanceId: i.instanceId,
    appId: i.appId,
    status: i.status,
    installedAt: i.installedAt,
    removedAt: i.removedAt,
    updatedAt: i.updatedAt,
    originInstanceId: i.originInstanceId,
    configuredAt: i.configuredAt,
    siteId: i.site.siteId,
    siteName: i.site.name,
    siteUrl: i.site.url,
    planVendorProductId: i.plan.vendorProductId,
    planCycle: i.plan.cycle,
    isFree: i.plan.isFree,
    appVersion: i.appVersion,
  };
}
