import { roleOf, type EventSource } from './state-machine.ts';
import { DAY_MS } from './time.ts';

/**
 * What one instance's history adds to the per-day summary that `GET /v1/stats/daily` reads, so a
 * year of stats costs 366 summary rows rather than a scan of every event.
 *
 * The summary is kept exact by difference: when a delivery changes an instance's history, the
 * writer computes this instance's contributions before and after (the history is already loaded
 * for the state machine) and adds the difference. The result is independent of arrival order,
 * like the state itself. Per UTC day:
 * - installs / removals: AppInstalled / AppRemoved events by their iat, each distinct (instance,
 *   iat) once: the same install delivered as two tokens is one install. Reconciliation's repairs
 *   count too, on the day of the check (`Reconciled.Removed` is a removal the webhooks missed,
 *   `Reconciled.Installed` a reinstall); an import's do not: it records installations that began
 *   or ended before the registry knew them, on no day it could name;
 * - churn: of the installs that day, how many the instance's next removal ended less than 1, 7
 *   or 30 days later, with no other install in between. For equal iat an install sorts before a
 *   removal (as in the state machine), so a reinstall at the moment of a removal means the earlier
 *   install was not ended by it.
 * `active_delta` (installations rows by their installed/removed day) is kept by triggers on the
 * installations table instead, so it follows every writer of that table.
 */
export interface DayContribution {
  installs: number;
  removals: number;
  churn1d: number;
  churn7d: number;
  churn30d: number;
}

export const CHURN_WINDOWS_MS = [1 * DAY_MS, 7 * DAY_MS, 30 * DAY_MS] as const;

export interface LifecycleEvent {
  eventType: string;
  issuedAt: number;
  /** Absent: wix. */
  source?: EventSource | undefined;
}

/** Day number (days since the epoch, UTC) of an instant. */
export const dayOf = (ms: number): number => Math.floor(ms / DAY_MS);

const emptyDay = (): DayContribution => ({ installs: 0, removals: 0, churn1d: 0, churn7d: 0, churn30d: 0 });

/** One instance's contributions per day, from its history. */
export function dailyContributions(history: readonly LifecycleEvent[]): Map<number, DayContribution> {
  const installs = distinctSorted(history, 'begin');
  const removals = distinctSorted(history, 'end');
  const days = new Map<number, DayContribution>();
  const at = (ms: number) => {
    const day = dayOf(ms);
    let entry = days.get(day);
    if (!entry) days.set(day, (entry = emptyDay()));
    return entry;
  };
  for (const removal of removals) at(removal).removals += 1;
  let r = 0;
  installs.forEach((start, k) => {
    const entry = at(start);
    entry.installs += 1;
    const nextInstall = installs[k + 1] ?? Infinity;
    while (r < removals.length && removals[r]! < start) r++;
    const removal = removals[r];
    if (removal === undefined || removal >= nextInstall) return;
    const lifetime = removal - start;
    if (lifetime < CHURN_WINDOWS_MS[0]) entry.churn1d += 1;
    if (lifetime < CHURN_WINDOWS_MS[1]) entry.churn7d += 1;
    if (lifetime < CHURN_WINDOWS_MS[2]) entry.churn30d += 1;
  });
  return days;
}

/** after − before, per day; days whose difference is zero are left out. */
export function contributionDelta(before: Map<number, DayContribution>, after: Map<number, DayContribution>): Map<number, DayContribution> {
  const delta = new Map<number, DayContribution>();
  for (const day of new Set([...before.keys(), ...after.keys()])) {
    const a = after.get(day) ?? emptyDay();
    const b = before.get(day) ?? emptyDay();
    const d: DayContribution = {
      installs: a.installs - b.installs,
      removals: a.removals - b.removals,
      churn1d: a.churn1d - b.churn1d,
      churn7d: a.churn7d - b.churn7d,
      churn30d: a.churn30d - b.churn30d,
    };
    if (d.installs || d.removals || d.churn1d || d.churn7d || d.churn30d) delta.set(day, d);
  }
  return delta;
}

function distinctSorted(history: readonly LifecycleEvent[], role: 'begin' | 'end'): number[] {
  const counted = history.filter((e) => e.source !== 'import' && roleOf(e) === role);
  return [...new Set(counted.map((e) => e.issuedAt))].sort((a, b) => a - b);
}
