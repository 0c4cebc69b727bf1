/**
 * The installation state machine, as a pure fold over an instance's history in `iat` order.
 *
 * Wix delivers out of order and resends for two days (docs/wix-protocol.md §1), so the state is not
 * updated incrementally by arrival: every delivery is appended to the history and the state is
 * recomputed from the whole (small) history of that instance. Whatever order deliveries arrive
 * in, the result equals applying them one by one in `iat` order — a stale event is recorded but
 * cannot change the outcome.
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

/** Event types that shape an installation. Anything else is stored and acknowledged only. */
export function isStateEventType(eventType: string): boolean {
  return eventType === 'AppInstalled' || eventType === 'AppRemoved' || PLAN_TYPES.has(eventType);
}

export interface HistoryEvent {
  eventType: string;
  /** iat, epoch ms. */
  issuedAt: number;
  data: Record<string, unknown>;
  accountInfo?: Record<string, unknown> | undefined;
  /** Deterministic tie-breaker for events with the same iat (the delivery's hash). */
  tieBreaker: string;
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
}

/** iat has one-second resolution; for equal iat an install precedes plan events, which precede a removal. */
function typeRank(eventType: string): number {
  if (eventType === 'AppInstalled') return 0;
  if (eventType === 'AppRemoved') return 2;
  return 1;
}

export function compareHistoryEvents(a: HistoryEvent, b: HistoryEvent): number {
  return (
    a.issuedAt - b.issuedAt ||
    typeRank(a.eventType) - typeRank(b.eventType) ||
    (a.tieBreaker < b.tieBreaker ? -1 : a.tieBreaker > b.tieBreaker ? 1 : 0)
  );
}

/**
 * Folds an instance's history into its current state; null when no event in it shapes an
 * installation. An instance first seen through a plan event or a removal (installed before the
 * registry listened, or its AppInstalled still in flight) gets `installedAtInferred: true` and
 * the earliest event's time, corrected as soon as the real AppInstalled arrives.
 */
export function foldInstallation(history: readonly HistoryEvent[]): DerivedInstallation | null {
  const events = history.filter((e) => isStateEventType(e.eventType)).sort(compareHistoryEvents);
  let state: DerivedInstallation | null = null;
  for (const event of events) {
    state ??= emptyState(event);
    state.lastEventAt = Math.max(state.lastEventAt, event.issuedAt);
    const appId = str(event.data.appId);
    if (appId) state.appId = appId;
    const siteId = str(event.accountInfo?.siteId);
    if (siteId) state.siteId = siteId;
    const accountId = str(event.accountInfo?.accountId);
    if (accountId) state.accountId = accountId;

    if (event.eventType === 'AppInstalled') {
      if (state.status === 'removed' || state.installedAtInferred) {
        state.installedAt = event.issuedAt;
        state.installedAtInferred = false;
      }
      state.status = 'active';
      state.removedAt = null;
      // Empty string means "not a copy" (docs/wix-protocol.md §1).
      state.originInstanceId = str(event.data.originInstanceId) || null;
    } else if (event.eventType === 'AppRemoved') {
      if (state.status === 'active') state.removedAt = event.issuedAt;
      state.status = 'removed';
    } else {
      applyPlanEvent(state, event);
    }
  }
  return state;
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
  return (Object.keys(a) as (keyof DerivedInstallation)[]).every((k) => k === 'lastEventAt' || a[k] === b[k]);
}
