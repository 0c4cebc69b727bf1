import type { InstallationRow } from '../db/schema/index.ts';

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null | undefined): string | null => (ms == null ? null : iso(ms));

/** The API's Installation: contract.md's fields, plus what is known of site and plan. */
export function toInstallation(row: InstallationRow) {
  return {
    instanceId: row.instanceId,
    appId: row.appId,
    status: row.status,
    installedAt: iso(row.installedAt),
    /** true when no AppInstalled was ever received and installedAt is the first event seen. */
    installedAtInferred: row.installedAtInferred,
    removedAt: isoOrNull(row.removedAt),
    updatedAt: iso(row.updatedAt),
    firstSeenAt: iso(row.firstSeenAt),
    lastEventAt: iso(row.lastEventAt),
    originInstanceId: row.originInstanceId,
    configuredAt: isoOrNull(row.configuredAt),
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
