import { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { RegistryStore } from '../db/store.ts';
import { AppError } from '../errors.ts';
import { paramDescription } from './query-schemas.ts';
import { DAY_MS, utcDate } from './time.ts';

export { DAY_MS };
export const DAILY_STATS_DEFAULT_DAYS = 30;
export const DAILY_STATS_MAX_DAYS = 366;

const utcDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD (a UTC day)')
  .transform((text, ctx) => {
    const ms = Date.UTC(Number(text.slice(0, 4)), Number(text.slice(5, 7)) - 1, Number(text.slice(8, 10)));
    if (utcDate(ms) !== text) {
      ctx.addIssue({ code: 'custom', message: 'is not a calendar date' });
      return z.NEVER;
    }
    return ms;
  });

/** GET /v1/stats/daily and `stats daily`: `from` inclusive, `to` exclusive, both UTC days. */
export const dailyStatsQuerySchema = z
  .object({
    from: utcDay.optional().meta(paramDescription('The first UTC day (YYYY-MM-DD), inclusive. Default: 30 days before `to`.')),
    to: utcDay
      .optional()
      .meta(
        paramDescription(
          'The UTC day after the last one (YYYY-MM-DD), exclusive. Default: tomorrow, so the window ends with today. At most 366 days after `from`.',
        ),
      ),
  })
  .strict();

export interface DailyStatsRange {
  /** Midnight UTC, epoch ms, inclusive. Default: 30 days before `to`. */
  from?: number | undefined;
  /** Midnight UTC, epoch ms, exclusive. Default: tomorrow, so the window ends with today. */
  to?: number | undefined;
}

export interface DailyStatsDay {
  date: string;
  installs: number;
  removals: number;
  net: number;
  active: number;
}

export interface DailyStats {
  from: string;
  /** Exclusive: the day after the last one in `days`. */
  to: string;
  days: DailyStatsDay[];
  churn: { removedWithin1Day: number; removedWithin7Days: number; removedWithin30Days: number; installs: number };
}

/**
 * Installation trends per UTC day, read from the per-day summary the writer keeps as deliveries
 * arrive (src/installations/daily-summary.ts says what each figure counts): a year costs 366
 * summary rows, not a scan of every event.
 *
 * `active` is how many installations were active at the end of the day, from each instance's
 * *current* installation (installed_at before the day's end and no removal before it): an
 * instance removed and later reinstalled is not counted for its earlier spell.
 */
export function createDailyStats(store: RegistryStore, options: { clock: Clock }) {
  /** The window's bounds, defaults applied; AppError('bad_request') when it is empty or too long. */
  function resolveRange(range: DailyStatsRange): { from: number; to: number } {
    const to = range.to ?? Math.floor(options.clock.now() / DAY_MS) * DAY_MS + DAY_MS;
    const from = range.from ?? to - DAILY_STATS_DEFAULT_DAYS * DAY_MS;
    if (from >= to) throw new AppError('bad_request', `to: must be later than from (${utcDate(from)}); to is exclusive`);
    if ((to - from) / DAY_MS > DAILY_STATS_MAX_DAYS) {
      throw new AppError('bad_request', `from..to spans ${(to - from) / DAY_MS} days; at most ${DAILY_STATS_MAX_DAYS}`);
    }
    return { from, to };
  }

  async function forRange(range: DailyStatsRange = {}): Promise<DailyStats> {
    const window = resolveRange(range);
    const summary = await store.installations.dailySummary(window);
    let active = summary.activeBefore;
    const churn = { removedWithin1Day: 0, removedWithin7Days: 0, removedWithin30Days: 0, installs: 0 };
    const days = summary.days.map((d, i) => {
      active += d.activeDelta;
      churn.removedWithin1Day += d.churn1d;
      churn.removedWithin7Days += d.churn7d;
      churn.removedWithin30Days += d.churn30d;
      churn.installs += d.installs;
      return { date: utcDate(window.from + i * DAY_MS), installs: d.installs, removals: d.removals, net: d.installs - d.removals, active };
    });
    return { from: utcDate(window.from), to: utcDate(window.to), days, churn };
  }

  return { forRange, resolveRange };
}

export type DailyStatsService = ReturnType<typeof createDailyStats>;
