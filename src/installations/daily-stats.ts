import { and, eq, gte, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import { systemClock, type Clock } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { installationEvents, installations, registryCounters } from '../db/schema/index.ts';
import { AppError } from '../errors.ts';

export const DAY_MS = 86_400_000;
export const DAILY_STATS_DEFAULT_DAYS = 30;
export const DAILY_STATS_MAX_DAYS = 366;

const utcDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD (a UTC day)')
  .transform((text, ctx) => {
    const ms = Date.UTC(Number(text.slice(0, 4)), Number(text.slice(5, 7)) - 1, Number(text.slice(8, 10)));
    if (new Date(ms).toISOString().slice(0, 10) !== text) {
      ctx.addIssue({ code: 'custom', message: 'is not a calendar date' });
      return z.NEVER;
    }
    return ms;
  });

/** GET /v1/stats/daily and `stats daily`: `from` inclusive, `to` exclusive, both UTC days. */
export const dailyStatsQuerySchema = z.object({ from: utcDay.optional(), to: utcDay.optional() }).strict();

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

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Installation trends per UTC day.
 *
 * - installs / removals: AppInstalled / AppRemoved events by their iat, from installation_events.
 *   Each event counts once: two stored deliveries with the same instance, type and iat are one
 *   event. A stale event (an old install resent after a removal) still counts on its own day.
 * - active: installations active at the end of the day, i.e. installed_at < day end and
 *   (removed_at IS NULL or removed_at >= day end). installations holds each instance's current
 *   installation only, so this is an approximation: an instance removed and later reinstalled
 *   counts as not active before the reinstall, even on days it was installed the first time.
 *   It relies on removed_at >= installed_at, which the state machine guarantees.
 * - churn: of the installs counted in [from, to) (the same events as days[].installs, so
 *   churn.installs is their sum), how many were followed by a removal of that instance within
 *   1, 7 or 30 days (strictly less than N × 24 h after the install, with no other install of
 *   the instance in between).
 *   Recent installs have had less time to be removed: their rates only grow as days pass.
 */
export function createDailyStats(db: Db, options: { clock?: Clock } = {}) {
  const clock = options.clock ?? systemClock;
  const ev = installationEvents;
  const inst = installations;

  // Counted day by day, each an index range: grouping a year of rows by day in one statement
  // would sort them all first (≈15× slower at a million installations).
  const eventsOnDay = db
    .select({ n: sql<number>`count(*)` })
    .from(
      db
        .select({ one: sql`1` })
        .from(ev)
        .where(and(eq(ev.eventType, sql.placeholder('eventType')), gte(ev.issuedAt, sql.placeholder('from')), lt(ev.issuedAt, sql.placeholder('to'))))
        // One event per instance and iat (GROUP BY in the index's own order: no sort).
        .groupBy(ev.issuedAt, ev.instanceId)
        .as('events'),
    )
    .prepare();
  const rowsOnDay = (column: typeof inst.installedAt | typeof inst.removedAt) =>
    db
      .select({ n: sql<number>`count(*)` })
      .from(inst)
      .where(and(gte(column, sql.placeholder('from')), lt(column, sql.placeholder('to'))))
      .prepare();
  const installedOnDay = rowsOnDay(inst.installedAt);
  const removedOnDay = rowsOnDay(inst.removedAt);

  /**
   * Installations active at `at`: installed_at < at and not removed_at < at (removed_at >=
   * installed_at, so every row counted by the second count is in the first). Counted on the
   * smaller side of `at`: for a recent `at`, from the trigger-kept count of active rows (no
   * removal time) back through what was installed and removed since.
   */
  function activeBefore(at: number): number {
    const counted = (column: typeof inst.installedAt | typeof inst.removedAt, op: 'before' | 'since') =>
      db.get<{ n: number }>(sql`SELECT count(*) AS n FROM ${inst} WHERE ${column} ${sql.raw(op === 'before' ? '<' : '>=')} ${at}`)?.n ?? 0;
    const activeNow = db.get<{ value: number }>(sql`SELECT ${registryCounters.value} AS value FROM ${registryCounters} WHERE ${registryCounters.name} = 'installations.active'`)?.value;
    const first = db.get<{ at: number | null }>(sql`SELECT min(${inst.installedAt}) AS at FROM ${inst}`)?.at ?? at;
    const recent = at - first > clock.now() - at;
    if (activeNow !== undefined && recent) return activeNow - counted(inst.installedAt, 'since') + counted(inst.removedAt, 'since');
    return counted(inst.installedAt, 'before') - counted(inst.removedAt, 'before');
  }

  /**
   * Of the installs in [from, to) (`installs`: their count, already known from the days), how
   * many the instance's next lifecycle event ended: a removal less than 1, 7 or 30 days later.
   * An install sorts before a removal with the same iat, as in state-machine.ts, so a reinstall
   * at the moment of a removal means the earlier install was not ended by it. Only removals up
   * to 30 days after `to` can count, and only instances with one matter: both lifecycle ranges
   * are read in index order and matched here, which at a year of a million installations is
   * several times faster than sorting every event by instance in SQL.
   */
  function churn(from: number, to: number, installs: number): DailyStats['churn'] {
    const horizon = to + 30 * DAY_MS;
    const lifecycle = (eventType: string) =>
      db.values<[string, number]>(
        sql`SELECT ${ev.instanceId}, ${ev.issuedAt} FROM ${ev} WHERE ${ev.eventType} = ${eventType} AND ${ev.issuedAt} >= ${from} AND ${ev.issuedAt} < ${horizon} ORDER BY ${ev.issuedAt}`,
      );
    const removalsOf = new Map<string, number[]>();
    for (const [instanceId, at] of lifecycle('AppRemoved')) {
      const times = removalsOf.get(instanceId);
      if (times) times.push(at);
      else removalsOf.set(instanceId, [at]);
    }
    const installsOf = new Map<string, number[]>();
    for (const [instanceId, at] of lifecycle('AppInstalled')) {
      if (!removalsOf.has(instanceId)) continue;
      const times = installsOf.get(instanceId);
      // The same install stored twice (two tokens, one iat) is one install.
      if (times) {
        if (times[times.length - 1] !== at) times.push(at);
      } else installsOf.set(instanceId, [at]);
    }
    const within = [0, 0, 0];
    const limits = [1, 7, 30].map((days) => days * DAY_MS);
    for (const [instanceId, starts] of installsOf) {
      const removals = removalsOf.get(instanceId)!;
      let r = 0;
      for (let k = 0; k < starts.length && starts[k]! < to; k++) {
        const start = starts[k]!;
        const nextInstall = starts[k + 1] ?? Infinity;
        while (r < removals.length && removals[r]! < start) r++;
        const removal = removals[r];
        if (removal === undefined || removal >= nextInstall) continue;
        limits.forEach((limit, n) => {
          if (removal - start < limit) within[n]! += 1;
        });
      }
    }
    return { removedWithin1Day: within[0]!, removedWithin7Days: within[1]!, removedWithin30Days: within[2]!, installs };
  }

  /** The window's bounds, defaults applied; AppError('bad_request') when it is empty or too long. */
  function resolveRange(range: DailyStatsRange): { from: number; to: number } {
    const to = range.to ?? Math.floor(clock.now() / DAY_MS) * DAY_MS + DAY_MS;
    const from = range.from ?? to - DAILY_STATS_DEFAULT_DAYS * DAY_MS;
    if (from >= to) throw new AppError('bad_request', `to: must be later than from (${day(from)}); to is exclusive`);
    if ((to - from) / DAY_MS > DAILY_STATS_MAX_DAYS) {
      throw new AppError('bad_request', `from..to spans ${(to - from) / DAY_MS} days; at most ${DAILY_STATS_MAX_DAYS}`);
    }
    return { from, to };
  }

  function forRange(range: DailyStatsRange = {}): DailyStats {
    const { from, to } = resolveRange(range);
    let active = activeBefore(from);
    const days: DailyStatsDay[] = [];
    for (let start = from; start < to; start += DAY_MS) {
      const range = { from: start, to: start + DAY_MS };
      const i = eventsOnDay.get({ eventType: 'AppInstalled', ...range })?.n ?? 0;
      const r = eventsOnDay.get({ eventType: 'AppRemoved', ...range })?.n ?? 0;
      active += (installedOnDay.get(range)?.n ?? 0) - (removedOnDay.get(range)?.n ?? 0);
      days.push({ date: day(start), installs: i, removals: r, net: i - r, active });
    }
    const installs = days.reduce((sum, d) => sum + d.installs, 0);
    return { from: day(from), to: day(to), days, churn: churn(from, to, installs) };
  }

  return { forRange, resolveRange };
}

export type DailyStatsService = ReturnType<typeof createDailyStats>;
