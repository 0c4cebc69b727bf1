import { eq, sql } from 'drizzle-orm';
import type { DatabaseHandle } from '../db/client.ts';
import { deliveries, installationEvents, installations, type EventPayload, type InstallationRow } from '../db/schema/index.ts';
import type { WixEvent } from '../webhooks/envelope.ts';
import { foldInstallation, isStateEventType, sameDerivedState, type DerivedInstallation, type HistoryEvent } from './state-machine.ts';

export type EventOutcome = 'applied' | 'stale' | 'ignored';

export interface StateTransition {
  instanceId: string;
  before: InstallationRow | undefined;
  after: DerivedInstallation;
}

/**
 * Folds a new event into its instance's state. Runs inside the caller's transaction; the
 * caller has already stored the delivery. Returns the outcome to record on the delivery, and
 * the transition when the visible state changed (the outbox reacts to it).
 */
export function createEventRecorder(database: DatabaseHandle) {
  const { db, sqlite } = database;
  // The two writes of every delivery, prepared once (SQL built per call cost more than SQLite's
  // own work; see bench/). Column names mirror src/db/schema; the integration tests catch drift.
  const insertEvent = sqlite.prepare(
    `INSERT INTO installation_events (delivery_id, instance_id, event_type, issued_at, received_at, payload) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const upsertInstallation = sqlite.prepare(`
    INSERT INTO installations (instance_id, app_id, status, installed_at, installed_at_inferred, removed_at, origin_instance_id,
      last_event_at, first_seen_at, updated_at, plan_vendor_product_id, plan_cycle, plan_expires_on, plan_auto_renewing,
      plan_changed_at, site_id, account_id)
    VALUES (@instanceId, @appId, @status, @installedAt, @installedAtInferred, @removedAt, @originInstanceId,
      @lastEventAt, @now, @now, @planVendorProductId, @planCycle, @planExpiresOn, @planAutoRenewing,
      @planChangedAt, @siteId, @accountId)
    ON CONFLICT (instance_id) DO UPDATE SET
      -- Fields other sources also fill (Get App Instance): a null from the fold means "not in the events".
      app_id = coalesce(excluded.app_id, app_id),
      site_id = coalesce(excluded.site_id, site_id),
      account_id = coalesce(excluded.account_id, account_id),
      status = excluded.status,
      -- configured_at belongs to one installation: a reinstall needs configuring again.
      configured_at = CASE WHEN installed_at = excluded.installed_at THEN configured_at END,
      installed_at = excluded.installed_at,
      installed_at_inferred = excluded.installed_at_inferred,
      removed_at = excluded.removed_at,
      origin_instance_id = excluded.origin_instance_id,
      last_event_at = excluded.last_event_at,
      updated_at = excluded.updated_at,
      plan_vendor_product_id = excluded.plan_vendor_product_id,
      plan_cycle = excluded.plan_cycle,
      plan_expires_on = excluded.plan_expires_on,
      plan_auto_renewing = excluded.plan_auto_renewing,
      plan_changed_at = excluded.plan_changed_at`);
  const selectHistory = db
    .select({
      eventType: installationEvents.eventType,
      issuedAt: installationEvents.issuedAt,
      payload: installationEvents.payload,
      tieBreaker: deliveries.jwtSha256,
    })
    .from(installationEvents)
    .innerJoin(deliveries, eq(deliveries.id, installationEvents.deliveryId))
    .where(eq(installationEvents.instanceId, sql.placeholder('instanceId')))
    .prepare();
  const selectInstallation = db
    .select()
    .from(installations)
    .where(eq(installations.instanceId, sql.placeholder('instanceId')))
    .prepare();

  /**
   * What the event would do, without writing, so the caller can store the delivery and its
   * outcome in one insert. `tieBreaker` is the delivery's hash: equal-iat order must not depend
   * on arrival order.
   */
  function evaluate(event: WixEvent, tieBreaker: string): { outcome: EventOutcome; transition: StateTransition | null } {
    if (!isStateEventType(event.eventType)) return { outcome: 'ignored', transition: null };
    const history: HistoryEvent[] = selectHistory.all({ instanceId: event.instanceId }).map((row) => ({
      eventType: row.eventType,
      issuedAt: row.issuedAt,
      data: row.payload.data,
      accountInfo: row.payload.accountInfo,
      tieBreaker: row.tieBreaker,
    }));
    const previous = foldInstallation(history);
    history.push({ eventType: event.eventType, issuedAt: event.issuedAt, data: event.data, accountInfo: event.accountInfo, tieBreaker });
    const next = foldInstallation(history)!;
    if (sameDerivedState(previous, next)) return { outcome: 'stale', transition: null };
    return {
      outcome: 'applied',
      transition: { instanceId: event.instanceId, before: selectInstallation.get({ instanceId: event.instanceId }), after: next },
    };
  }

  /** Appends the event to history and writes the new state, if any. */
  function record(event: WixEvent, deliveryId: number, receivedAt: number, transition: StateTransition | null): void {
    const payload: EventPayload = { data: event.data, identity: event.identity, accountInfo: event.accountInfo };
    insertEvent.run(deliveryId, event.instanceId, event.eventType, event.issuedAt, receivedAt, JSON.stringify(payload));
    if (transition) writeState(event.instanceId, transition, receivedAt);
  }

  function writeState(instanceId: string, transition: StateTransition, now: number): void {
    const a = transition.after;
    upsertInstallation.run({
      ...a,
      instanceId,
      now,
      installedAtInferred: a.installedAtInferred ? 1 : 0,
      planAutoRenewing: a.planAutoRenewing === null ? null : a.planAutoRenewing ? 1 : 0,
    });
  }

  /**
   * Recomputes an instance's state from its stored history and writes it (a replay, or a
   * repair after a state-machine fix). Returns the transition when anything visible changed.
   */
  function rebuild(instanceId: string, now: number): StateTransition | null {
    const history: HistoryEvent[] = selectHistory.all({ instanceId }).map((row) => ({
      eventType: row.eventType,
      issuedAt: row.issuedAt,
      data: row.payload.data,
      accountInfo: row.payload.accountInfo,
      tieBreaker: row.tieBreaker,
    }));
    const next = foldInstallation(history);
    if (!next) return null;
    const before = selectInstallation.get({ instanceId });
    const current = before ? foldInstallationRow(before) : null;
    // Fields the events say nothing about keep what other sources (Get App Instance) filled in.
    if (current && sameDerivedState(current, { ...current, ...withoutUnknowns(next) })) return null;
    const transition = { instanceId, before, after: next };
    writeState(instanceId, transition, now);
    return transition;
  }

  return { evaluate, record, rebuild };
}

export type EventRecorder = ReturnType<typeof createEventRecorder>;

/** Fields other sources also fill (Get App Instance): a null from the fold means "not in the events", not "cleared". */
const ENRICHABLE_FIELDS = ['appId', 'siteId', 'accountId'] as const;

function withoutUnknowns(state: DerivedInstallation): Partial<DerivedInstallation> {
  const copy: Partial<DerivedInstallation> = { ...state };
  for (const field of ENRICHABLE_FIELDS) if (copy[field] === null) delete copy[field];
  return copy;
}

/** The event-derived part of a stored row, to compare with a fresh fold. */
function foldInstallationRow(row: InstallationRow): DerivedInstallation {
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
