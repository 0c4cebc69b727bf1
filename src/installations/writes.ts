/**
 * The installations service's writes: the only code that writes deliveries, installations and
 * the per-day summary. Each function is a transaction script over the engine's statements
 * (src/db/store.ts, WriteStatements): it runs inside a transaction the storage engine opens, in
 * a savepoint of its own, and never talks to the network (work that talks to Wix goes through
 * the outbox).
 */
import type { WriteStatements } from '../db/store.ts';
import { reactToTransition } from '../outbox/enqueue.ts';
import { contributionDelta, dailyContributions } from './daily-summary.ts';
import type { EventOutcome, IngestStatus, InstallationRecord, SiteDescription, VerifiedDelivery } from './model.ts';
import { foldInstallation, isStateEventType, sameDerivedState, type DerivedInstallation, type HistoryEvent } from './state-machine.ts';

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
  const shapesState = isStateEventType(event.eventType);
  let outcome: EventOutcome = 'ignored';
  let history: HistoryEvent[] = [];
  let withEvent: HistoryEvent[] = [];
  let next: DerivedInstallation | null = null;
  if (shapesState) {
    await tx.lockInstance(event.instanceId);
    history = await tx.historyOf(event.instanceId);
    // The delivery's hash breaks ties between equal iats: their order must not depend on arrival.
    withEvent = [...history, { eventType: event.eventType, issuedAt: event.issuedAt, data: event.data, accountInfo: event.accountInfo, tieBreaker: sha256 }];
    next = foldInstallation(withEvent)!;
    outcome = sameDerivedState(foldInstallation(history), next) ? 'stale' : 'applied';
  }
  const deliveryId = await tx.insertDelivery({
    sha256,
    jwt: delivery.jwt,
    eventType: event.eventType,
    instanceId: event.instanceId,
    issuedAt: event.issuedAt,
    receivedAt,
    outcome,
    payload: { data: event.data, identity: event.identity, accountInfo: event.accountInfo },
  });
  // A Wix resend is the identical JWT: already stored, nothing more to do.
  if (deliveryId === null) return { status: 'duplicate', statusAfter: null, jobsEnqueued: false };
  if (!shapesState) return { status: 'accepted', statusAfter: null, jobsEnqueued: false };

  const delta = contributionDelta(dailyContributions(history), dailyContributions(withEvent));
  if (delta.size > 0) await tx.addDailyContributions(delta);
  if (outcome !== 'applied') return { status: 'accepted', statusAfter: null, jobsEnqueued: false };
  const transition = { instanceId: event.instanceId, before: await tx.installation(event.instanceId), after: next! };
  await tx.writeDerivedState(event.instanceId, next!, receivedAt);
  const jobsEnqueued = await reactToTransition(tx, transition, receivedAt);
  return { status: 'accepted', statusAfter: next!.status, jobsEnqueued };
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
  if (current && sameDerivedState(current, { ...current, ...withoutUnknowns(next) })) return { instanceId, changed: false, jobsEnqueued: false };
  await tx.writeDerivedState(instanceId, next, command.now);
  const jobsEnqueued = await reactToTransition(tx, { instanceId, before, after: next }, command.now);
  return { instanceId, changed: true, jobsEnqueued };
}

/** What Wix's Get App Instance said of the instance's site (the outbox's site sync). */
export async function recordSiteSync(tx: WriteStatements, instanceId: string, site: SiteDescription, now: number): Promise<void> {
  await tx.writeSite(instanceId, site, now);
}

/** Wix accepted APP_FINISHED_CONFIGURATION for the installation that started at `startedAt`. */
export async function recordConfigured(tx: WriteStatements, instanceId: string, startedAt: number, now: number): Promise<void> {
  await tx.writeConfigured(instanceId, startedAt, now);
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

