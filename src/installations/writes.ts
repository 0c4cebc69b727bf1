/**
 * The installations service's writes: the only code that writes deliveries, installations and
 * the per-day summary. Each function is a transaction script over the engine's statements
 * (src/db/store.ts, WriteStatements): it runs inside a transaction the storage engine opens, in
 * a savepoint of its own, and never talks to the network (work that talks to Wix goes through
 * the outbox, or happens before the command, as a reconciliation's check does).
 *
 * Every event that enters an instance's history — a Wix delivery or one of the registry's own
 * checks — goes through `appendToHistory`, and every visible change of an installation through
 * `applyTransition`: the one place the change feed (issue 10) hooks into.
 */
import { recordChange } from '../changes/record.ts';
import type { NewDelivery, WriteStatements } from '../db/store.ts';
import { reactToTransition } from '../outbox/enqueue.ts';
import { contributionDelta, dailyContributions } from './daily-summary.ts';
import type { EventOutcome, IngestStatus, InstallationRecord, SiteDescription, VerifiedDelivery } from './model.ts';
import {
  foldInstallation,
  isStateEventType,
  REGISTRY_EVENT_TYPES,
  roleOf,
  sameDerivedState,
  type DerivedInstallation,
  type HistoryEvent,
  type RegistryEventType,
} from './state-machine.ts';

/** An installation's visible state changed: the state before (as stored) and after (derived). */
export interface StateTransition {
  instanceId: string;
  before: InstallationRecord | undefined;
  after: DerivedInstallation;
}

/** What the caller of an ingest learns: the answer for Wix, and what changed for the process. */
export interface IngestOutcome {
  status: IngestStatus;
  /** The installation's status after the delivery, when the delivery changed it. */
  statusAfter: InstallationRecord['status'] | null;
  /** Outbox jobs were enqueued: the worker can look now rather than at its next poll. */
  jobsEnqueued: boolean;
}

/**
 * Stores a verified delivery: dedupe by the JWT's hash, store the delivery with its parsed
 * layers (the history), fold the instance's history with it (the state machine), write the new
 * state if anything visible changed, keep the per-day summary, and let the outbox react.
 */
export async function recordDelivery(
  tx: WriteStatements,
  command: { delivery: VerifiedDelivery; sha256: string; receivedAt: number },
): Promise<IngestOutcome> {
  const { delivery, sha256, receivedAt } = command;
  const { event } = delivery;
  const row: NewDelivery = {
    sha256,
    jwt: delivery.jwt,
    eventType: event.eventType,
    instanceId: event.instanceId,
    issuedAt: event.issuedAt,
    receivedAt,
    outcome: 'ignored',
    payload: { data: event.data, identity: event.identity, accountInfo: event.accountInfo },
  };
  if (!isStateEventType(event.eventType)) {
    // Stored and acknowledged only; a Wix resend is the identical JWT, already stored.
    const id = await tx.insertDelivery(row);
    return { status: id === null ? 'duplicate' : 'accepted', statusAfter: null, jobsEnqueued: false };
  }
  await tx.lockInstance(event.instanceId);
  const history = await tx.historyOf(event.instanceId);
  const appended = await appendToHistory(tx, row, history, receivedAt);
  if (!appended.stored) return { status: 'duplicate', statusAfter: null, jobsEnqueued: false };
  return { status: 'accepted', statusAfter: appended.transition?.after.status ?? null, jobsEnqueued: appended.jobsEnqueued };
}

/**
 * Re-applies a stored delivery: its instance's state is recomputed from the full history (which
 * holds the delivery) and written, with the outbox reacting as for a live delivery. For replays
 * and for repairs after a state-machine fix.
 */
export async function replayDelivery(
  tx: WriteStatements,
  command: { deliveryId: number; now: number },
): Promise<{ instanceId: string; changed: boolean; jobsEnqueued: boolean } | null> {
  const instanceId = await tx.deliveryInstance(command.deliveryId);
  if (instanceId === null) return null;
  await tx.lockInstance(instanceId);
  const next = foldInstallation(await tx.historyOf(instanceId));
  if (!next) return { instanceId, changed: false, jobsEnqueued: false };
  const before = await tx.installation(instanceId);
  const current = before ? derivedPartOf(before) : null;
  // Fields the events say nothing about keep what other sources (Get App Instance) filled in.
  if (current && sameDerivedState(current, { ...current, ...withoutUnknowns(next) }))
    return { instanceId, changed: false, jobsEnqueued: false };
  // The newest event the fold saw is when what the replay corrects happened.
  const jobsEnqueued = await applyTransition(tx, { instanceId, before, after: next }, { occurredAt: next.lastEventAt, now: command.now });
  return { instanceId, changed: true, jobsEnqueued };
}

/** What Wix's Get App Instance said of the instance's site (the outbox's site sync). */
export async function recordSiteSync(tx: WriteStatements, instanceId: string, site: SiteDescription, now: number): Promise<void> {
  const before = await tx.installation(instanceId);
  await tx.writeSite(instanceId, site, now);
  await recordChange(tx, { instanceId, before, occurredAt: now, now });
}

/** Wix accepted APP_FINISHED_CONFIGURATION for the installation that started at `startedAt`. */
export async function recordConfigured(tx: WriteStatements, instanceId: string, startedAt: number, now: number): Promise<void> {
  const before = await tx.installation(instanceId);
  if (await tx.writeConfigured(instanceId, startedAt, now)) await recordChange(tx, { instanceId, before, occurredAt: now, now });
}

// ---------------------------------------------------------------------------------------------
// The registry's own checks with Wix (import, reconciliation): src/reconcile/ asks Wix, then
// records what it learned here, in one transaction per instance.

/** What Wix said of one instance. */
export type CheckVerdict =
  /** Wix issued a token: the app is installed. `site` is Get App Instance's answer, when it gave one. */
  | { kind: 'installed'; site: SiteDescription | null }
  /** Wix refused a token for this instance, and only for it (src/reconcile/run.ts decides that). */
  | { kind: 'removed' };

export interface CheckRecord {
  instanceId: string;
  source: 'reconcile' | 'import';
  /** When Wix answered: the time of the events this records. */
  checkedAt: number;
  verdict: CheckVerdict;
  /** An installation this check begins gets APP_FINISHED_CONFIGURATION (import --configure). Default: reconcile yes, import no. */
  configure?: boolean | undefined;
  /** Record nothing when the registry already knows the instance (import). */
  onlyIfUnknown?: boolean | undefined;
}

/**
 * What recording a check did: skipped (known already, import), unchanged (nothing to repair),
 * installed (an installation began: imported active, or a missed reinstall), removed (a removal
 * the webhooks missed, or an imported instance Wix refuses), updated (site data refreshed).
 */
export type CheckEffect = 'skipped' | 'unchanged' | 'installed' | 'removed' | 'updated';

export interface CheckOutcome {
  effect: CheckEffect;
  statusAfter: InstallationRecord['status'] | null;
  jobsEnqueued: boolean;
}

/**
 * Records one check as events in the instance's history (docs/decisions/0010): a repair is a
 * `Reconciled.*` / `Imported.*` event timed by the check and folded with Wix's events by the
 * same rules, so a later real webhook (a reinstall) still wins, and a webhook older than the
 * check does not undo it. Nothing is recorded when there is nothing to repair, except that the
 * installation was confirmed (checkedAt).
 */
export async function recordCheck(tx: WriteStatements, check: CheckRecord, now: number): Promise<CheckOutcome> {
  const { instanceId, verdict } = check;
  await tx.lockInstance(instanceId);
  const history = await tx.historyOf(instanceId);
  const row = await tx.installation(instanceId);
  if (check.onlyIfUnknown && (history.length > 0 || row)) return { effect: 'skipped', statusAfter: null, jobsEnqueued: false };
  const active = foldInstallation(history)?.status === 'active';
  const imported = check.source === 'import';

  if (verdict.kind === 'removed' && !active && (row || history.length > 0))
    return { effect: 'unchanged', statusAfter: null, jobsEnqueued: false };
  if (verdict.kind === 'installed' && active) {
    let effect: CheckEffect = 'unchanged';
    const changed = verdict.site && row ? changedSiteFields(row, verdict.site) : [];
    if (verdict.site && changed.length > 0) {
      const appended = await appendToHistory(
        tx,
        registryEvent(check, REGISTRY_EVENT_TYPES.reconciledSiteUpdated, { ...verdict.site, changed }, now),
        history,
        now,
        { outcome: 'applied' },
      );
      if (appended.stored) {
        await tx.writeSite(instanceId, verdict.site, now);
        await recordChange(tx, { instanceId, before: row, occurredAt: check.checkedAt, now });
        effect = 'updated';
      }
    }
    await tx.markChecked(instanceId, check.checkedAt);
    return { effect, statusAfter: null, jobsEnqueued: false };
  }

  const installed = verdict.kind === 'installed';
  const eventType: RegistryEventType = installed
    ? imported
      ? REGISTRY_EVENT_TYPES.importedInstalled
      : REGISTRY_EVENT_TYPES.reconciledInstalled
    : imported
      ? REGISTRY_EVENT_TYPES.importedRemoved
      : REGISTRY_EVENT_TYPES.reconciledRemoved;
  const data = installed ? { configure: check.configure ?? !imported } : {};
  const site = installed ? verdict.site : null;
  const appended = await appendToHistory(tx, registryEvent(check, eventType, data, now), history, now, { siteKnown: site !== null });
  if (site && appended.stored) await tx.writeSite(instanceId, site, now);
  if (installed && appended.stored) await tx.markChecked(instanceId, check.checkedAt);
  const statusAfter = appended.transition?.after.status ?? null;
  const effect: CheckEffect = statusAfter === 'active' ? 'installed' : statusAfter === 'removed' ? 'removed' : 'unchanged';
  return { effect, statusAfter, jobsEnqueued: appended.jobsEnqueued };
}

/** One of the registry's own events as a history row: no JWT, and a key that can never be a SHA-256. */
function registryEvent(check: CheckRecord, eventType: RegistryEventType, data: Record<string, unknown>, now: number): NewDelivery {
  return {
    sha256: `${check.source}:${eventType}:${check.instanceId}:${check.checkedAt}`,
    jwt: '',
    source: check.source,
    eventType,
    instanceId: check.instanceId,
    issuedAt: check.checkedAt,
    receivedAt: now,
    outcome: 'ignored',
    payload: { data },
  };
}

const SITE_FIELDS = ['siteId', 'siteName', 'siteUrl', 'appVersion', 'isFree'] as const;

/** The site fields Get App Instance says differently from the row (a missing siteId is not a change: writeSite keeps the known one). */
function changedSiteFields(row: InstallationRecord, site: SiteDescription): string[] {
  return SITE_FIELDS.filter((field) => !(field === 'siteId' && site.siteId === null) && row[field] !== site[field]);
}

// ---------------------------------------------------------------------------------------------
// The one path into the history, and the one path for a visible change

/**
 * Appends an event to an instance's history (already locked and read by the caller): folds the
 * history with it, stores it with its outcome, keeps the per-day summary, and applies the
 * transition when the state changed. `stored` is false for a duplicate (same key).
 */
async function appendToHistory(
  tx: WriteStatements,
  row: NewDelivery,
  history: HistoryEvent[],
  now: number,
  options: { outcome?: EventOutcome; siteKnown?: boolean } = {},
): Promise<{ stored: boolean; transition: StateTransition | null; jobsEnqueued: boolean }> {
  // The key breaks ties between equal iats: their order must not depend on arrival.
  const event: HistoryEvent = {
    eventType: row.eventType,
    issuedAt: row.issuedAt,
    data: row.payload.data,
    accountInfo: row.payload.accountInfo,
    tieBreaker: row.sha256,
    source: row.source ?? 'wix',
  };
  const withEvent = [...history, event];
  const before = foldInstallation(history);
  const next = foldInstallation(withEvent);
  const outcome: EventOutcome =
    options.outcome ?? (roleOf(event) === 'none' ? 'ignored' : sameDerivedState(before, next) ? 'stale' : 'applied');
  const id = await tx.insertDelivery({ ...row, outcome });
  if (id === null) return { stored: false, transition: null, jobsEnqueued: false };

  const delta = contributionDelta(dailyContributions(history), dailyContributions(withEvent));
  if (delta.size > 0) await tx.addDailyContributions(delta);
  if (outcome !== 'applied' || !next || sameDerivedState(before, next)) return { stored: true, transition: null, jobsEnqueued: false };
  const transition: StateTransition = { instanceId: row.instanceId, before: await tx.installation(row.instanceId), after: next };
  const jobsEnqueued = await applyTransition(tx, transition, { occurredAt: row.issuedAt, now }, { siteKnown: options.siteKnown ?? false });
  return { stored: true, transition, jobsEnqueued };
}

/**
 * Writes an installation's new event-derived state, appends the change it makes to the feed, and
 * lets the outbox react, all in the caller's transaction. Every visible change of an
 * installation's lifecycle or plan passes here. `occurredAt`: the event's iat (a check's time).
 */
async function applyTransition(
  tx: WriteStatements,
  transition: StateTransition,
  at: { occurredAt: number; now: number },
  options: { siteKnown?: boolean } = {},
): Promise<boolean> {
  await tx.writeDerivedState(transition.instanceId, transition.after, at.now);
  await recordChange(tx, { instanceId: transition.instanceId, before: transition.before, occurredAt: at.occurredAt, now: at.now });
  return reactToTransition(tx, transition, at.now, options);
}

/** Fields other sources also fill (Get App Instance): a null from the fold means "not in the events", not "cleared". */
const ENRICHABLE_FIELDS = ['appId', 'siteId', 'accountId'] as const;

function withoutUnknowns(state: DerivedInstallation): Partial<DerivedInstallation> {
  const copy: Partial<DerivedInstallation> = { ...state };
  for (const field of ENRICHABLE_FIELDS) if (copy[field] === null) delete copy[field];
  return copy;
}

/** The event-derived part of a stored installation, to compare with a fresh fold. */
function derivedPartOf(row: InstallationRecord): DerivedInstallation {
  return {
    status: row.status,
    appId: row.appId,
    installedAt: row.installedAt,
    installedAtInferred: row.installedAtInferred,
    removedAt: row.removedAt,
    originInstanceId: row.originInstanceId,
    lastEventAt: row.lastEventAt,
    planVendorProductId: row.planVendorProductId,
    planCycle: row.planCycle,
    planExpiresOn: row.planExpiresOn,
    planAutoRenewing: row.planAutoRenewing,
    planChangedAt: row.planChangedAt,
    siteId: row.siteId,
    accountId: row.accountId,
    // Not stored; sameDerivedState does not look at it.
    configure: false,
  };
}

/** registry_state name: every delivery with an id up to this one has had its raw JWT pruned. */
export const RAW_JWT_PRUNED_THROUGH_STATE = 'retention.raw_jwt_pruned_through';

/**
 * One batch of retention: drops the raw JWT of up to `limit` deliveries received before
 * `receivedBefore`, oldest first, keeping their hash (dedupe), payload (history) and everything
 * derived from them. Deliveries are stored in arrival order, so ids follow receive times; the walk
 * stops at the first delivery still inside the window, so a delivery's JWT is never dropped early,
 * even one stored out of order (it waits for the deliveries before it). `done`: nothing more is due.
 */
export async function pruneRawJwts(
  tx: WriteStatements,
  command: { receivedBefore: number; limit: number; now: number },
): Promise<{ pruned: number; done: boolean }> {
  const from = Number((await tx.readState(RAW_JWT_PRUNED_THROUGH_STATE)) ?? 0);
  const receipts = await tx.deliveryReceiptsAfter(from, command.limit);
  let through = from;
  for (const receipt of receipts) {
    if (receipt.receivedAt >= command.receivedBefore) break;
    through = receipt.id;
  }
  if (through === from) return { pruned: 0, done: true };
  const pruned = await tx.pruneRawJwts(from, through);
  await tx.writeState(RAW_JWT_PRUNED_THROUGH_STATE, String(through), command.now);
  return { pruned, done: receipts.length < command.limit || receipts.at(-1)!.id !== through };
}
