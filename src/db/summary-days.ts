import type { DailySummaryRows } from './store.ts';

/** One stored row of the per-day summary, as both engines read it. */
export type SummaryDayRow = { day: number } & DailySummaryRows['days'][number];

/**
 * The days of a window, in order, from the summary rows stored for it (days without a row are
 * zeros): the same for every engine, so both answer a window alike.
 */
export function summaryDays(rows: readonly SummaryDayRow[], from: number, to: number): DailySummaryRows['days'] {
  const byDay = new Map(rows.map((r) => [r.day, r]));
  const days: DailySummaryRows['days'] = [];
  for (let d = from; d < to; d++) {
    const r = byDay.get(d);
    days.push({
      installs: r?.installs ?? 0,
      removals: r?.removals ?? 0,
      activeDelta: r?.activeDelta ?? 0,
      churn1d: r?.churn1d ?? 0,
      churn7d: r?.churn7d ?? 0,
      churn30d: r?.churn30d ?? 0,
    });
  }
  return days;
}
