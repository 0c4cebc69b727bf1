/**
 * The registry's HTTP API types, as its README and OpenAPI document (`GET /openapi.json`) describe
 * them. Times are ISO-8601 strings in UTC. The repository's tests check these against the
 * registry's own types, so the two cannot drift apart unnoticed.
 */

/** What is known of the site: from the webhook and from Wix's Get App Instance. */
export interface InstallationSite {
  siteId: string | null;
  accountId: string | null;
  name: string | null;
  url: string | null;
  /** When the site was last read from Get App Instance. */
  syncedAt: string | null;
}

/** The plan, from the paid-plan events and Get App Instance. */
export interface InstallationPlan {
  /** null until Wix has described the instance. */
  isFree: boolean | null;
  vendorProductId: string | null;
  /** The billing cycle Wix names, e.g. MONTHLY or YEARLY. */
  cycle: string | null;
  expiresOn: string | null;
  autoRenewing: boolean | null;
  /** When a plan event last changed the plan. */
  changedAt: string | null;
}

export type InstallationStatus = 'active' | 'removed';

/** One app instance: its current installation, site and plan. */
export interface Installation {
  instanceId: string;
  appId: string | null;
  status: InstallationStatus;
  installedAt: string;
  /** true when installedAt is not an AppInstalled's time: the first event seen (no AppInstalled received), or the registry's own check with Wix (import, reconciliation). */
  installedAtInferred: boolean;
  removedAt: string | null;
  updatedAt: string;
  firstSeenAt: string;
  lastEventAt: string;
  originInstanceId: string | null;
  /** When Wix accepted APP_FINISHED_CONFIGURATION for the current installation. */
  configuredAt: string | null;
  /** When Wix last confirmed the installation by issuing a token for it (import, reconciliation); null if never. */
  checkedAt: string | null;
  site: InstallationSite;
  plan: InstallationPlan;
  appVersion: string | null;
}

/** One verified Wix delivery in an installation's history. */
export interface InstallationEvent {
  /** Wix's eventType, e.g. AppInstalled, AppRemoved, PaidPlanPurchased (unknown types are kept too), or one of the registry's own checks: Reconciled.Removed, Reconciled.Installed, Reconciled.SiteUpdated, Imported.Installed, Imported.Removed. */
  eventType: string;
  /** The JWT's iat. */
  issuedAt: string;
  receivedAt: string;
  /** applied: it changed the installation; stale: it changed nothing visible; ignored: a type the registry does not act on. */
  outcome: 'applied' | 'stale' | 'ignored';
  /** The event's inner data, as Wix sent it. */
  data: Record<string, unknown>;
  identity: Record<string, unknown> | null;
}

/** GET /v1/installations/:instanceId: the installation and its history, oldest first by iat. */
export interface InstallationDetail {
  installation: Installation;
  events: InstallationEvent[];
}

/** One page of GET /v1/installations. */
export interface InstallationPage {
  items: Installation[];
  /** Pass as `cursor` (with the same sort and order) for the next page; null on the last page. */
  nextCursor: string | null;
}

/** A date-only (`2026-10-01`, midnight UTC) or zoned date-time string, or a Date. */
export type TimeParam = string | Date;

/** The filters, sort and paging of GET /v1/installations; every one is optional and they combine (AND). */
export interface ListInstallationsParams {
  status?: InstallationStatus;
  /** `paid`, `free`, or a vendorProductId. */
  plan?: 'paid' | 'free' | (string & {});
  /** Inclusive. */
  installedFrom?: TimeParam;
  /** Exclusive. */
  installedTo?: TimeParam;
  removedFrom?: TimeParam;
  removedTo?: TimeParam;
  /** Case-insensitive substring of the site name, site URL or instance id (1–200 characters). */
  q?: string;
  sort?: 'installedAt' | 'removedAt' | 'updatedAt';
  order?: 'desc' | 'asc';
  /** 1–500, default 50. */
  limit?: number;
  /** The previous page's nextCursor. */
  cursor?: string;
}

/** POST /v1/installations/:instanceId/access-token. */
export interface AccessToken {
  /** A Wix access token for the instance, with the app's identity: send it as `Authorization: <token>`. */
  accessToken: string;
  expiresAt: string;
}

/**
 * What a change says happened:
 * - `installation.installed`: a first install, or a reinstall after a removal;
 * - `installation.removed`;
 * - `installation.plan_changed`: a plan event changed the plan;
 * - `installation.site_updated`: something learned from Get App Instance changed;
 * - `installation.configured`: Wix accepted APP_FINISHED_CONFIGURATION (again after each reinstall).
 * A later registry may add types: ignore the ones you do not know.
 */
export type ChangeType =
  'installation.installed' | 'installation.removed' | 'installation.plan_changed' | 'installation.site_updated' | 'installation.configured';

/** One visible transition of an installation, in the order the registry committed it. */
export interface Change {
  /** Unique: receivers dedupe by it. */
  id: string;
  type: ChangeType;
  instanceId: string;
  /** The Wix event's iat (or the time of the check, for a reconciliation). */
  occurredAt: string;
  recordedAt: string;
  /** The installation's state after the change. */
  installation: Installation;
}

/** One page of GET /v1/changes. */
export interface ChangePage {
  items: Change[];
  /** Always a string: pass it back as `after` to continue exactly where the page ended. */
  nextCursor: string;
}
