/**
 * The installation state machine, as a pure fold over an instance's history in `iat` order.
 *
 * Wix delivers out of order and resends for two days (docs/wix-protocol.md §1), so the state is not
 * updated incrementally by arrival: every delivery is appended to the history and the state is
 * recomputed from the whole (small) history of that instance. Whatever order deliveries arrive
 * in, the result equals applying them one by one in `iat` order — a stale event is recorded but
 * cannot change the outcome. The one thing arrival decides is which of an installation's own
 * AppInstalled dates it (the first to arrive), so that a late one changes nothing (see spells below).
 * The registry's own checks with Wix (import, reconciliation) are events in the same history,
 * timed by the check, and are ordered with Wix's by the same rules.
 */

export const LIFECYCLE_EVENT_TYPES = ['AppInstalled', 'AppRemoved'] as const;
export const PLAN_EVENT_TYPES = [
  'PaidPlanPurchased',
  'PaidPlanChanged',
  'PaidPlanAutoRenewalCancelled',
  'PlanConvertedToPaid',
  'PlanReactivated',
  'PlanTransferred',
] as const;

export type PlanEventType = (typeof PLAN_EVENT_TYPES)[number];
const PLAN_TYPES: ReadonlySet<string> = new Set(PLAN_EVENT_TYPES);

/** Wix event types that shape an installation. Any other Wix delivery is stored and acknowledged only. */
export function isStateEventType(eventType: string): boolean {
  return eventType === 'AppInstalled' || eventType === 'AppRemoved' || PLAN_TYPES.has(eventType);
}

/**
 * Where a history event came from. `wix`: a verified webhook delivery. `reconcile` / `import`: a
 * check the registry made with Wix itself (docs/decisions/0010): its eventType is one of
 * REGISTRY_EVENT_TYPES, never one of Wix's, and its issuedAt is the time of the check.
 */
export type EventSource = 'wix' | 'reconcile' | 'import';

/**
 * The events the registry records from its own checks with Wix. `*.Installed`: Wix issued a
 * token for the instance (it begins an installation when none is active); `*.Removed`: Wix
 * refused this instance (it ends the active installation); `Reconciled.SiteUpdated`: Get App
 * Instance said something new about the site (it shapes no state: the site is not folded).
 */
export const REGISTRY_EVENT_TYPES = {
  importedInstalled: 'Imported.Installed',
  importedRemoved: 'Imported.Removed',
  reconciledInstalled: 'Reconciled.Installed',
  reconciledRemoved: 'Reconciled.Removed',
  reconciledSiteUpdated: 'Reconciled.SiteUpdated',
} as const;
export type RegistryEventType = (typeof REGISTRY_EVENT_TYPES)[keyof typeof REGISTRY_EVENT_TYPES];

export interface HistoryEvent {
  eventType: string;
  /** iat, epoch ms (for the registry's own events: the time of the check). */
  issuedAt: number;
  data: Record<string, unknown>;
  accountInfo?: Record<string, unknown> | undefined;
  /** Deterministic tie-breaker for events with the same iat (the delivery's hash). */
  tieBreaker: string;
  /** Absent: `wix`. A Wix delivery is never read as one of the registry's own events, whatever its eventType. */
  source?: EventSource | undefined;
  /**
   * The order the registry stored the event in (the delivery's id). Absent: after every event
   * that has one (the delivery being recorded now), in fold order. Only used to date a spell.
   */
  arrival?: number | undefined;
}

export interface DerivedInstallation {
  status: 'active' | 'removed';
  appId: string | null;
  installedAt: number;
  installedAtInferred: boolean;
  removedAt: number | null;
  originInstanceId: string | null;
  lastEventAt: number;
  planVendorProductId: string | null;
  planCycle: string | null;
  planExpiresOn: string | null;
  planAutoRenewing: boolean | null;
  planChangedAt: number | null;
  siteId: string | null;
  accountId: string | null;
  /**
   * Whether the registry sends APP_FINISHED_CONFIGURATION for the current installation: it began
   * with a Wix AppInstalled, or an import asked for it (`--configure`), or reconciliation found a
   * reinstall the webhooks missed. Not visible and not stored: the outbox reads it at a transition.
   */
  configure: boolean;
}

/** What an event does to the installation: begin one, end it, change its plan, or nothing. */
export type EventRole = 'begin' | 'end' | 'plan' | 'none';

export function roleOf(event: Pick<HistoryEvent, 'eventType' | 'source'>): EventRole {
  const { eventType } = event;
  if ((event.source ?? 'wix') === 'wix') {
    if (eventType === 'AppInstalled') return 'begin';
    if (eventType === 'AppRemoved') return 'end';
    return PLAN_TYPES.has(eventType) ? 'plan' : 'none';
  }
  if (eventType === REGISTRY_EVENT_TYPES.importedInstalled || eventType === REGISTRY_EVENT_TYPES.reconciledInstalled) return 'begin';
  if (eventType === REGISTRY_EVENT_TYPES.importedRemoved || eventType === REGISTRY_EVENT_TYPES.reconciledRemoved) return 'end';
  return 'none';
}

/** iat has one-second resolution; for equal iat a begin precedes plan events, which precede an end. */
function roleRank(event: HistoryEvent): number {
  const role = roleOf(event);
  return role === 'begin' ? 0 : role === 'end' ? 2 : 1;
}

export function compareHistoryEvents(a: HistoryEvent, b: HistoryEvent): number {
  return a.issuedAt - b.issuedAt || roleRank(a) - roleRank(b) || (a.tieBreaker < b.tieBreaker ? -1 : a.tieBreaker > b.tieBreaker ? 1 : 0);
}

/** One installation: from the event that began it (in iat order) to the next end. */
interface Spell {
  /** Its first event in iat order: dates it when no begin event is known (an inferred installation). */
  first: HistoryEvent;
  /** Its begin events (AppInstalled, or the registry's *.Installed), in iat order. */
  begins: HistoryEvent[];
}

/**
 * Folds an instance's history into its current state; null when no event in it shapes an
 * installation.
 *
 * **Spells** (docs/decisions/0010). An installation runs from a begin event to the next end event
 * in iat order. A begin event while one is active joins it: a late, older AppInstalled with no
 * removal in between, or a resend re-signed with a newer iat, is the same installation. A spell
 * is dated by the first of its begin events to *arrive*, so installedAt does not move when
 * another joins it and the installation is not configured a second time; which spells exist,
 * the status and everything else still follow iat order alone, whatever the arrival order.
 *
 * An instance first seen through a plan event or a removal (installed before the registry
 * listened, or its AppInstalled still in flight) gets `installedAtInferred: true` and the
 * earliest event's time, corrected when a real AppInstalled of that spell arrives. A spell begun
 * by the registry's own check (import, reconciliation) is dated by the check and stays inferred.
 */
export function foldInstallation(history: readonly HistoryEvent[]): DerivedInstallation | null {
  const events = history.filter((e) => roleOf(e) !== 'none').sort(compareHistoryEvents);
  let state: DerivedInstallation | null = null;
  let spell: Spell | null = null;
  for (const event of events) {
    const role = roleOf(event);
    if (!state || !spell) {
      state = emptyState(event);
      spell = { first: event, begins: [] };
    }
    state.lastEventAt = Math.max(state.lastEventAt, event.issuedAt);
    const appId = str(event.data.appId);
    if (appId) state.appId = appId;
    const siteId = str(event.accountInfo?.siteId);
    if (siteId) state.siteId = siteId;
    const accountId = str(event.accountInfo?.accountId);
    if (accountId) state.accountId = accountId;

    if (role === 'begin') {
      if (state.status === 'removed') spell = { first: event, begins: [] };
      spell.begins.push(event);
      state.status = 'active';
      state.removedAt = null;
      // Empty string means "not a copy" (docs/wix-protocol.md §1). The registry's checks do not know.
      if ((event.source ?? 'wix') === 'wix') state.originInstanceId = str(event.data.originInstanceId) || null;
    } else if (role === 'end') {
      if (state.status === 'active') state.removedAt = event.issuedAt;
      state.status = 'removed';
    } else {
      applyPlanEvent(state, event);
    }
  }
  if (state && spell) dateSpell(state, spell);
  return state;
}

/** installedAt, installedAtInferred and configure of the latest spell. */
function dateSpell(state: DerivedInstallation, spell: Spell): void {
  let dating: HistoryEvent | undefined;
  for (const begin of spell.begins) {
    // Earliest arrival; an event without one arrived after all others; ties keep iat order.
    if (!dating || (begin.arrival ?? Infinity) < (dating.arrival ?? Infinity)) dating = begin;
  }
  if (!dating) {
    state.installedAt = spell.first.issuedAt;
    state.installedAtInferred = true;
    state.configure = false;
    return;
  }
  const fromWix = (dating.source ?? 'wix') === 'wix';
  state.installedAt = dating.issuedAt;
  state.installedAtInferred = !fromWix;
  state.configure = fromWix || dating.data.configure === true;
}

function emptyState(first: HistoryEvent): DerivedInstallation {
  return {
    // Any state-shaping event proves the app was installed at or before it; the event itself is
    // then applied to this state like any other (a removal removes it, an install dates it).
    status: 'active',
    appId: null,
    installedAt: first.issuedAt,
    installedAtInferred: true,
    removedAt: null,
    originInstanceId: null,
    lastEventAt: first.issuedAt,
    planVendorProductId: null,
    planCycle: null,
    planExpiresOn: null,
    planAutoRenewing: null,
    planChangedAt: null,
    siteId: null,
    accountId: null,
    configure: false,
  };
}

function applyPlanEvent(state: DerivedInstallation, event: HistoryEvent): void {
  const d = event.data;
  const product = str(d.vendorProductId);
  if (product) state.planVendorProductId = product;
  const cycle = str(d.cycle);
  if (cycle) state.planCycle = cycle;
  const expiresOn = str(d.expiresOn);
  if (expiresOn) state.planExpiresOn = expiresOn;
  switch (event.eventType as PlanEventType) {
    case 'PaidPlanAutoRenewalCancelled':
      state.planAutoRenewing = false;
      break;
    case 'PaidPlanPurchased':
    case 'PaidPlanChanged':
    case 'PlanConvertedToPaid':
    case 'PlanReactivated':
      state.planAutoRenewing = true;
      break;
    case 'PlanTransferred':
      break;
  }
  state.planChangedAt = event.issuedAt;
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** True when two derived states differ in anything a user can see. */
export function sameDerivedState(a: DerivedInstallation | null, b: DerivedInstallation | null): boolean {
  if (a === null || b === null) return a === b;
  return (Object.keys(a) as (keyof DerivedInstallation)[]).every((k) => k === 'lastEventAt' || k === 'configure' || a[k] === b[k]);
}
