/**
 * The storage boundary: everything above src/db/ talks to storage through a RegistryStore, and
 * only through its asynchronous functions. Nothing above src/db/ holds a database handle.
 *
 * It is designed for an engine that is asynchronous and may be remote: every call returns a
 * promise; writes are *commands* that the engine runs inside a transaction of its own choosing
 * (group commit: many commands share one transaction and one durable flush, each in its own
 * savepoint); reads are queries that may queue behind each other and be refused when they have
 * waited too long (StorageBusyError → 503 with Retry-After). Two engines implement it:
 * - SQLite (src/db/sqlite/): one writer thread owns the only write connection and does group
 *   commit, fsync and checkpoints; a small pool of reader threads answers queries. The event loop
 *   only passes messages, so no query and no fsync ever delays a webhook.
 * - PostgreSQL (src/db/postgres/): several processes (replicas) on one database; group commit
 *   per process, row and advisory locks between them, and a pool for reads apart from the writes.
 *
 * What a command does inside its transaction is written once, engine-neutral, as a transaction
 * script over `WriteStatements` (src/db/commands.ts → the installations and outbox services).
 * Each engine implements the statements in its own SQL.
 */
import type {
  DeliverySummary,
  EventPayload,
  EventOutcome,
  HistoryRecord,
  InstallationRecord,
  InstallationStatus,
  SiteDescription,
} from '../installations/model.ts';
import type { DerivedInstallation, EventSource, HistoryEvent } from '../installations/state-machine.ts';
import type { DayContribution } from '../installations/daily-summary.ts';
import type { InstallationFilters, InstallationOrdering, Position } from '../installations/query-schemas.ts';
import type { ChangeRecord, NewChange } from '../changes/model.ts';
import type { OutboxJob, OutboxJobKind, OutboxJobStatus } from '../outbox/model.ts';
import type { WriteCommand, WriteResult } from './commands.ts';

export type EngineName = 'sqlite' | 'postgres';
export type Awaitable<T> = T | Promise<T>;

// ---------------------------------------------------------------------------------------------
// Errors every engine throws, so callers never look at engine error codes.

/** The database cannot take the work right now (locked, read-only, full, down): nothing was written. */
export class StorageUnavailableError extends Error {
  override name = 'StorageUnavailableError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** A read waited too long for a free connection: webhooks come first. Ask again after `retryAfterSec`. */
export class StorageBusyError extends Error {
  override name = 'StorageBusyError';
  constructor(readonly retryAfterSec: number) {
    super('Too many queries are waiting for the database; retry shortly');
  }
}

// ---------------------------------------------------------------------------------------------
// Read results

/** A page of installation rows and where the walk stands after it (null: the end). */
export interface InstallationRowPage {
  rows: InstallationRecord[];
  next: Position | null;
}

export interface InstallationListRequest extends InstallationFilters, InstallationOrdering {
  limit: number;
  after: Position | null;
}

/** Per-day figures of a window, straight from the per-day summary. */
export interface DailySummaryRows {
  /** Installations active at the start of the window. */
  activeBefore: number;
  /** One entry per day of the window, in order (days without a row are zeros). */
  days: (DayContribution & { activeDelta: number })[];
}

export interface OutboxJobFilter {
  status?: OutboxJobStatus | undefined;
  instanceId?: string | undefined;
  limit?: number | undefined;
}

/** A page of the change feed: changes after a position, in order, and the newest position committed. */
export interface ChangeRows {
  rows: ChangeRecord[];
  /** The highest position committed when the page was read (0: none yet): a cursor beyond it is not one of this feed's. */
  last: number;
}

export interface ChangeFilter {
  instanceId?: string | undefined;
  /** Only changes before this position (the dashboard's older pages). */
  before?: number | undefined;
  limit: number;
}

/** Told after a commit that appended changes: the highest position it appended (a hint: read to see). */
export type ChangeListener = (notice: { position: number }) => void;

/** One push endpoint: its health as the outcomes of its attempts left it, and its open jobs. */
export interface PushEndpointHealth {
  url: string;
  /** Still in REGISTRY_EVENT_ENDPOINTS (as the server last started). */
  active: boolean;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  lastError: string | null;
  consecutiveFailures: number;
  failedAttempts: number;
  delivered: number;
  pending: number;
  running: number;
  dead: number;
}

export interface DeliveryFilter {
  instanceId?: string | undefined;
  limit?: number | undefined;
}

/** A stored delivery's raw JWT; `jwt` is null once retention has pruned it (RAW_DELIVERY_RETENTION_DAYS). */
export interface StoredJwt {
  /** Null once pruned (and for the registry's own events, which never had one). */
  jwt: string | null;
  receivedAt: number;
  source: EventSource;
}

export type TokenHandoutOutcome = 'issued' | 'unknown_instance' | 'removed_instance' | 'refused' | 'failed';

/** One row of the token audit, as stored. */
export interface TokenHandoutRecord {
  id: number;
  apiKeyId: string;
  instanceId: string;
  requestedAt: number;
  outcome: TokenHandoutOutcome;
  tokenExpiresAt: number | null;
  requestId: string | null;
}

/** Where a walk of the audit stands: the last row's time and id (newest first). */
export interface TokenHandoutPosition {
  requestedAt: number;
  id: number;
}

export interface TokenHandoutListRequest {
  instanceId?: string | undefined;
  apiKeyId?: string | undefined;
  outcome?: TokenHandoutOutcome | undefined;
  /** Inclusive, epoch ms. */
  since?: number | undefined;
  /** Exclusive, epoch ms. */
  until?: number | undefined;
  limit: number;
  after: TokenHandoutPosition | null;
}

export interface TokenHandoutRowPage {
  rows: TokenHandoutRecord[];
  next: TokenHandoutPosition | null;
}

/** A dashboard session as stored: the SHA-256 of its id, never the id the cookie carries. */
export interface DashboardSessionRecord {
  idHash: string;
  apiKeyId: string;
  createdAt: number;
  expiresAt: number;
}

/** Which dashboard sessions to end. */
export type DashboardSessionFilter =
  | { idHash: string }
  | { apiKeyId: string }
  | { all: true }
  /** Every session whose key is not one of these (keys removed from REGISTRY_API_KEYS). */
  | { exceptApiKeyIds: readonly string[] };

/**
 * One instance's access token as the shared token row holds it. `sealed` is AES-256-GCM
 * ciphertext made above the store (src/wix/token-sealing.ts): the store never sees a token in
 * clear, nor the key. `keyId` names the key it was sealed with (a row sealed with another key,
 * after the app secret rotated, is read as no row at all).
 */
export interface SealedTokenRow {
  sealed: string;
  keyId: string;
  /** When Wix said the token expires, epoch ms (also bound into the seal: a changed value does not open). */
  expiresAt: number;
}

/**
 * The shared token row of each instance, for engines with several processes on one database
 * (PostgreSQL replicas): with it, Wix sees one token request per instance per token lifetime
 * across all of them (contract: "Running several replicas"). The token broker keeps its
 * per-process cache in front of it and comes here only on a miss.
 */
export interface SharedTokenStore {
  /**
   * Runs `work` holding the instance's token lock, which one caller at a time holds across every
   * process on the database, with the row as it stands (null: none). `save` writes the row (`now`:
   * its updated time); it is committed when `work` resolves and dropped if it rejects. The lock is held while `work`
   * runs (a token request to Wix, bounded by its timeout); a caller that waits for it longer
   * than the engine allows is refused with a StorageUnavailableError.
   */
  locked<T>(
    instanceId: string,
    work: (row: SealedTokenRow | null, save: (row: SealedTokenRow, now: number) => Promise<void>) => Promise<T>,
  ): Promise<T>;
  /**
   * Deletes the instance's row, under the same lock (so a refresh in flight elsewhere finishes
   * first), when `matches` accepts it (any row when omitted): true if one was deleted.
   */
  remove(instanceId: string, matches?: (row: SealedTokenRow) => boolean): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// The boundary

export interface RegistryStore {
  readonly engine: EngineName;
  /** For logs: the file path, or the URL without its password. */
  readonly location: string;

  /** Runs a write command in the next group commit; resolves once it is durable. */
  write<C extends WriteCommand>(command: C): Promise<WriteResult<C>>;

  installations: {
    page(request: InstallationListRequest): Promise<InstallationRowPage>;
    /**
     * The same page with its items already serialized as the API's JSON array, where the engine can
     * do that off the event loop (SQLite's reader threads). Optional: callers fall back to `page`.
     */
    pageJson?(request: InstallationListRequest): Promise<{ itemsJson: string; next: Position | null }>;
    get(instanceId: string): Promise<InstallationRecord | null>;
    history(instanceId: string): Promise<HistoryRecord[]>;
    status(instanceId: string): Promise<InstallationStatus | undefined>;
    counts(): Promise<Record<InstallationStatus, number>>;
    /** The newest active installation's id (for `simulate` without --instance). */
    newestActive(): Promise<string | undefined>;
    /** `from` and `to` are UTC midnights (epoch ms), `to` exclusive. */
    dailySummary(window: { from: number; to: number }): Promise<DailySummaryRows>;
    /**
     * Every matching installation, formatted by `format` page by page (rows per page is the
     * engine's choice), pulled one chunk at a time so a slow consumer holds no connection, lock
     * or memory between chunks. The first chunk is read before this resolves, so a failing query
     * is an error response rather than a cut-off file.
     */
    exportChunks(query: InstallationFilters & InstallationOrdering, format: ExportFormatName): Promise<AsyncIterableIterator<string>>;
  };

  outbox: {
    list(filter: OutboxJobFilter): Promise<OutboxJob[]>;
    counts(): Promise<Record<OutboxJobStatus, number>>;
    /** Jobs still open (pending, running) or dead, per kind: what an operator watches. */
    openCountsByKind(): Promise<{ kind: OutboxJobKind; state: OutboxJobStatus; count: number }[]>;
    /**
     * Soonest time a pending job becomes due: of every job, or of one lane's (`endpoint` null:
     * the Wix jobs; a URL: the push jobs of that endpoint).
     */
    nextDueAt(lane?: { endpoint: string | null }): Promise<number | null>;
  };

  /**
   * The change feed. `page` and `subscribe` are what a long-poll needs, and all an engine must
   * guarantee is this: `page` never returns a position while a change with a lower one can still
   * commit (SQLite: one write transaction at a time assigns positions, see schema/changes.ts;
   * PostgreSQL: positions assigned under one lock at commit, or pages cut below the oldest
   * transaction still in flight), and `subscribe` is told of every commit that appended changes,
   * from any process that writes the database if the engine can (PostgreSQL: LISTEN/NOTIFY), at
   * least from this process's own writes.
   */
  changes: {
    /** Up to `limit` changes with a position above `after`, oldest first. */
    page(after: number, limit: number): Promise<ChangeRows>;
    /** Newest first, optionally of one instance (the dashboard, the CLI). */
    latest(filter: ChangeFilter): Promise<ChangeRecord[]>;
    get(position: number): Promise<ChangeRecord | null>;
    /** Calls `listener` after each commit that appended changes; returns the unsubscribe. */
    subscribe(listener: ChangeListener): () => void;
  };

  push: {
    /** Every endpoint ever configured, active ones first, with its health and open jobs. */
    endpoints(): Promise<PushEndpointHealth[]>;
  };

  deliveries: {
    list(filter: DeliveryFilter): Promise<DeliverySummary[]>;
    /** The raw JWT of a stored delivery, byte for byte (null inside: pruned); null: no such delivery. */
    jwt(deliveryId: number): Promise<StoredJwt | null>;
  };

  /** The token audit (token_handouts), newest first. */
  audit: {
    tokenHandouts(request: TokenHandoutListRequest): Promise<TokenHandoutRowPage>;
  };

  /** Dashboard sessions: read on every dashboard request (src/dashboard/sessions.ts caches them briefly). */
  sessions: {
    find(idHash: string): Promise<DashboardSessionRecord | null>;
    /** Every stored session, newest first (expired ones included until retention deletes them). */
    list(): Promise<DashboardSessionRecord[]>;
  };

  /**
   * The shared token rows (PostgreSQL: table access_tokens, src/db/postgres/shared-tokens.ts).
   * SQLite has none: its one server process holds the only token cache, so there is nothing to
   * share (the CLI asks Wix for fresh tokens on purpose, see src/wix/instance-checks.ts).
   */
  tokens?: SharedTokenStore;

  /** Calls `listener` with the number of commands each committed transaction held (metrics). */
  observeCommits(listener: (commands: number) => void): void;
  /** True while the store is open and migrated. */
  isReady(): boolean;
  /** Commits what is queued, then closes every connection. */
  close(): Promise<void>;
}

export type ExportFormatName = 'ndjson' | 'csv';

/** Every read of a RegistryStore: what an engine's read side implements (the store adds writes, subscribe and lifecycle). */
export type StoreReads = Pick<RegistryStore, 'installations' | 'outbox' | 'push' | 'deliveries' | 'audit' | 'sessions'> & {
  changes: Omit<RegistryStore['changes'], 'subscribe'>;
};

// ---------------------------------------------------------------------------------------------
// What engines implement for the transaction scripts (src/db/commands.ts). Inside one
// transaction; SQLite answers synchronously, PostgreSQL with promises. Column names are the
// engine's business; the shapes are the domain's.

export interface NewDelivery {
  /** The JWT's SHA-256, or the key of one of the registry's own events (`reconcile:…`): unique. */
  sha256: string;
  /** Empty for the registry's own events. */
  jwt: string;
  /** Absent: wix. */
  source?: EventSource | undefined;
  eventType: string;
  instanceId: string;
  issuedAt: number;
  receivedAt: number;
  outcome: EventOutcome;
  payload: EventPayload;
}

export interface NewTokenHandout {
  apiKeyId: string;
  instanceId: string;
  requestedAt: number;
  outcome: TokenHandoutOutcome;
  tokenExpiresAt?: number | null | undefined;
  requestId?: string | null | undefined;
}

export interface WriteStatements {
  /** Serializes writers of one instance across processes (PostgreSQL replicas); a no-op where one writer exists. */
  lockInstance(instanceId: string): Awaitable<void>;

  // deliveries: owned by the installations service
  /** Stores the delivery unless one with the same sha256 exists: its id, or null for a duplicate. */
  insertDelivery(delivery: NewDelivery): Awaitable<number | null>;
  deliveryInstance(deliveryId: number): Awaitable<string | null>;
  /** The instance's history for the state machine, any order, each event with its `source` and `arrival` (the row's id). */
  historyOf(instanceId: string): Awaitable<HistoryEvent[]>;

  // installations: owned by the installations service
  installation(instanceId: string): Awaitable<InstallationRecord | undefined>;
  /** Inserts or updates the event-derived fields; configuredAt is kept only for the same installation. */
  writeDerivedState(instanceId: string, state: DerivedInstallation, now: number): Awaitable<void>;
  writeSite(instanceId: string, site: SiteDescription, now: number): Awaitable<void>;
  /**
   * Sets configuredAt when the installation that started at `startedAt` is still the current one
   * and not configured yet (a repeated call after a crash keeps the first time): true if it did.
   */
  writeConfigured(instanceId: string, startedAt: number, now: number): Awaitable<boolean>;
  addDailyContributions(delta: Map<number, DayContribution>): Awaitable<void>;
  /** Wix confirmed the installation at `at` (sets checkedAt; leaves updatedAt alone). */
  markChecked(instanceId: string, at: number): Awaitable<void>;

  // changes: owned by the change feed (src/changes/record.ts)
  /** Appends a change; its position, assigned so that commit order is position order (see RegistryStore.changes). */
  insertChange(change: NewChange): Awaitable<number>;

  // outbox_jobs: owned by the outbox
  /** Enqueues a Wix job once per installation; a cancelled one is armed again. */
  enqueueJob(kind: OutboxJobKind, instanceId: string, startedAt: number, now: number): Awaitable<void>;
  /** Cancels the instance's pending Wix jobs (never its push jobs: a removal is a change to push too). */
  cancelPendingJobs(instanceId: string, reason: string, now: number, exceptStartedAt?: number): Awaitable<void>;
  /** Claims due Wix jobs (not push jobs), soonest due first. */
  claimDueJobs(now: number, limit: number, leaseUntil: number): Awaitable<OutboxJob[]>;
  /** One push_change job per active push endpoint for the change at `changePosition`: how many. */
  enqueuePushJobs(changePosition: number, instanceId: string, startedAt: number, now: number): Awaitable<number>;
  /**
   * Claims due push jobs of one endpoint, oldest change first, skipping every job whose instance
   * has an earlier change not yet delivered to that endpoint (pending, running or dead): per
   * endpoint, an instance's changes arrive in order, one at a time. Engines with several writers
   * must serialize claims per endpoint (PostgreSQL: an advisory lock; SKIP LOCKED alone would
   * skip a locked earlier change and claim the later one).
   */
  claimDuePushJobs(endpoint: string, now: number, limit: number, leaseUntil: number): Awaitable<OutboxJob[]>;
  finishJob(jobId: number, now: number): Awaitable<void>;
  retryJobLater(jobId: number, runAfter: number, error: string, now: number): Awaitable<void>;
  killJob(jobId: number, error: string, now: number): Awaitable<void>;
  /** Running jobs back to pending without counting the attempt (graceful shutdown). */
  releaseJobs(jobIds: readonly number[], now: number): Awaitable<void>;
  /** Every running job due again now (a previous process died holding them). */
  recoverAbandonedJobs(now: number): Awaitable<number>;
  /** Dead (or the given) jobs back to pending, attempts reset. */
  requeueJobs(now: number, jobIds?: readonly number[]): Awaitable<number>;

  // push_endpoints: owned by the outbox
  /**
   * Makes `urls` the active push endpoints (adding new ones) and every other one inactive, and
   * cancels the pending push jobs of the ones no longer configured: how many it cancelled.
   */
  configurePushEndpoints(urls: readonly string[], now: number): Awaitable<number>;
  /** The outcome of one push attempt, for the endpoint's health. */
  recordPushAttempt(endpoint: string, outcome: { ok: true } | { ok: false; error: string }, now: number): Awaitable<void>;

  // token_handouts: owned by the token API
  insertTokenHandout(row: NewTokenHandout): Awaitable<void>;

  // reconcile_schedule: owned by the scheduled reconciliation (src/reconcile/schedule-lease.ts)
  /**
   * Takes the walk's lease for `owner` until `leaseUntil` when it is due (`next_run_at` ≤ now) and
   * free (no lease, or one that lapsed, or this owner's): the walk's cursor. Null: not due, or
   * another process holds it. Creates the row on first use.
   */
  claimReconcileWalk(name: string, owner: string, now: number, leaseUntil: number): Awaitable<{ cursor: string | null } | null>;
  /** Gives the lease back, if `owner` still holds it, with the walk's new cursor and when the next slice is due. */
  releaseReconcileWalk(
    name: string,
    owner: string,
    update: { cursor: string | null; nextRunAt: number; lastStop: string | null },
    now: number,
  ): Awaitable<boolean>;
  // deliveries, retention (the installations service): the raw JWT goes, the hash and payload stay
  /** Up to `limit` deliveries with id > afterId, in id order, with their receive times. */
  deliveryReceiptsAfter(afterId: number, limit: number): Awaitable<{ id: number; receivedAt: number }[]>;
  /** Drops the raw JWT of every delivery with afterId < id <= throughId; how many still had one. */
  pruneRawJwts(afterId: number, throughId: number): Awaitable<number>;

  // registry_state: named values, each name owned by one service (see the schema)
  readState(name: string): Awaitable<string | null>;
  /** Sets the value, or, with onlyIfAbsent, keeps one already there. */
  writeState(name: string, value: string, now: number, options?: { onlyIfAbsent?: boolean }): Awaitable<void>;

  // dashboard_sessions: owned by the dashboard
  insertSession(session: DashboardSessionRecord): Awaitable<void>;
  /** How many sessions were deleted. */
  deleteSessions(filter: DashboardSessionFilter): Awaitable<number>;
  /** Sessions that expired at or before `now`. */
  deleteExpiredSessions(now: number): Awaitable<number>;
}
