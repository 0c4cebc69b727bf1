/**
 * The installation domain's own types: what a Wix event is once verified, and what an
 * installation is as stored. Storage engines map their rows onto these; nothing here knows SQL.
 * All times are Unix epoch milliseconds (UTC).
 */

/**
 * A verified Wix app-instance event (docs/wix-protocol.md §1): the JWT's `data` claim (layer A)
 * with its inner `data` (layer B) and `identity` (layer C) parsed.
 */
export interface WixEvent {
  eventType: string;
  instanceId: string;
  /** The JWT's iat: the order the state machine follows. */
  issuedAt: number;
  data: Record<string, unknown>;
  identity: Record<string, unknown> | undefined;
  accountInfo: Record<string, unknown> | undefined;
}

/** A webhook delivery that passed verification, with the raw JWT exactly as received. */
export interface VerifiedDelivery {
  jwt: string;
  event: WixEvent;
}

export type IngestStatus = 'accepted' | 'duplicate';

/**
 * What a stored delivery did: applied (changed the installation), stale (changed nothing
 * visible), ignored (an event type the registry does not act on; kept anyway).
 */
export type EventOutcome = 'applied' | 'stale' | 'ignored';

/** The parsed layers of a delivery, stored with it: the history's payload. */
export interface EventPayload {
  data: Record<string, unknown>;
  identity?: Record<string, unknown> | undefined;
  accountInfo?: Record<string, unknown> | undefined;
}

export type InstallationStatus = 'active' | 'removed';

/** An installation as stored: its event-derived state plus what Wix's Get App Instance told. */
export interface InstallationRecord {
  instanceId: string;
  appId: string | null;
  status: InstallationStatus;
  /** iat of the AppInstalled that started the current installation, or, when no install was
   *  ever received (installed before the registry listened), the earliest event's iat. */
  installedAt: number;
  installedAtInferred: boolean;
  removedAt: number | null;
  originInstanceId: string | null;
  /** iat of the newest event folded into this row. */
  lastEventAt: number;
  firstSeenAt: number;
  updatedAt: number;
  /** When Wix accepted APP_FINISHED_CONFIGURATION for the current installation. */
  configuredAt: number | null;
  planVendorProductId: string | null;
  planCycle: string | null;
  planExpiresOn: string | null;
  planAutoRenewing: boolean | null;
  planChangedAt: number | null;
  siteId: string | null;
  accountId: string | null;
  siteName: string | null;
  siteUrl: string | null;
  appVersion: string | null;
  isFree: boolean | null;
  siteSyncedAt: number | null;
  /** When Wix last confirmed the installation by issuing a token for it (import, reconciliation). */
  checkedAt: number | null;
}

/** What Get App Instance says of an instance's site and app (docs/wix-protocol.md §3). */
export interface SiteDescription {
  siteId: string | null;
  siteName: string | null;
  siteUrl: string | null;
  appVersion: string | null;
  isFree: boolean | null;
}

/** One stored delivery in an instance's history, as the history lists it. */
export interface HistoryRecord {
  eventType: string;
  issuedAt: number;
  receivedAt: number;
  outcome: EventOutcome;
  payload: EventPayload;
}

/** Who recorded a history row: Wix (a verified webhook) or the registry's own check with Wix. */
export type { EventSource } from './state-machine.ts';

/** A stored webhook delivery (or a check the registry recorded), as `deliveries list` shows it. */
export interface DeliverySummary {
  id: number;
  eventType: string;
  instanceId: string;
  issuedAt: number;
  receivedAt: number;
  outcome: EventOutcome;
  /** The JWT's SHA-256; for the registry's own events, their key (`reconcile:…`, `import:…`). */
  sha256: string;
  source: import('./state-machine.ts').EventSource;
  /** The raw JWT was dropped after RAW_DELIVERY_RETENTION_DAYS; the hash and the payload are kept. */
  jwtPruned: boolean;
}
