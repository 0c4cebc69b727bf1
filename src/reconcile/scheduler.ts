/**
 * The server reconciles on a schedule, off the webhook path: every RECONCILE_INTERVAL_MS it takes
 * the next slice of a walk over the active installations (oldest install first, keyset pages, so
 * each is visited once per round even while webhooks arrive) and checks, at the shared rate, at
 * most RECONCILE_SLICE_SIZE of them that were not heard from — no webhook, no check — for
 * RECONCILE_AFTER_DAYS. A large registry is covered a slice at a time, never in a burst.
 *
 * Several processes on one database (PostgreSQL replicas, or a CLI beside the server) take turns:
 * a slice is checked under a lease in `reconcile_schedule`, claimed and released through the
 * store, and the walk's position and next due time live in that row, so the cadence is the
 * schedule's, not the number of processes. A process that dies holding the lease loses it when
 * it lapses. A slice that stops early for safety is not skipped: the walk stays where it was and
 * waits RECONCILE_STOP_BACKOFF_MS.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../clock.ts';
import type { ReconcileConfig } from '../config.ts';
import type { RegistryStore } from '../db/store.ts';
import type { InstallationRecord } from '../installations/model.ts';
import type { Position } from '../installations/query-schemas.ts';
import type { Logger } from '../logger.ts';
import { positionAfter, type Reconciler } from './reconciler.ts';
import type { RunSummary } from './run.ts';

/** The walk's row in reconcile_schedule. */
export const RECONCILE_WALK_NAME = 'active-installations';
/** Rows read per page of the walk. */
export const WALK_SCAN_PAGE_ROWS = 500;
/** Rows one slice looks at, at most, looking for installations due a check. */
export const WALK_SCAN_MAX_ROWS = 5_000;
/** After a slice stopped for safety, the schedule waits this long before trying again. */
export const RECONCILE_STOP_BACKOFF_MS = 15 * 60_000;

export interface SliceResult {
  /** Installations looked at, and how many of them were due a check. */
  examined: number;
  due: number;
  summary: RunSummary | null;
  /** The walk reached the last active installation and starts over next time. */
  wrapped: boolean;
}

export interface ReconcileSchedulerOptions {
  store: RegistryStore;
  clock: Clock;
  logger: Logger;
  reconciler: Reconciler;
  config: Pick<ReconcileConfig, 'afterMs' | 'intervalMs' | 'sliceSize' | 'ratePerSec'>;
  /** Names this process in the lease (default: host, pid and a random tag). */
  owner?: string;
}

export function createReconcileScheduler(options: ReconcileSchedulerOptions) {
  const { store, clock, logger, reconciler, config } = options;
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  // Long enough for a whole slice at the configured rate (two calls an instance, plus removals' three), with a margin.
  const leaseMs = Math.ceil(((config.sliceSize * 3) / config.ratePerSec) * 1000) + 60_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | null = null;
  let stopping = false;
  const abort = new AbortController();

  /** One slice, if it is due and no other process holds the walk. Null: not this process's turn. */
  async function runOnce(): Promise<SliceResult | null> {
    const now = clock.now();
    const claim = await store.write({ kind: 'claimReconcileWalk', name: RECONCILE_WALK_NAME, owner, now, leaseMs });
    if (!claim) return null;
    let cursor = claim.cursor;
    let lastStop: string | null = null;
    let nextRunAt = now + config.intervalMs;
    let result: SliceResult;
    try {
      const { due, examined, next, wrapped } = await dueSlice(
        claim.cursor ? (JSON.parse(claim.cursor) as Position) : null,
        now - config.afterMs,
      );
      result = { examined, due: due.length, summary: null, wrapped };
      if (due.length > 0) {
        const summary = await reconciler.reconcile(due, { signal: abort.signal });
        result.summary = summary;
        if (summary.stopped) {
          lastStop = summary.stopped;
          nextRunAt = clock.now() + RECONCILE_STOP_BACKOFF_MS;
          logger.warn({ ...summary }, 'scheduled reconciliation stopped early; the walk will retry this slice');
        } else if (summary.removed || summary.updated || summary.reinstated) {
          logger.info({ ...summary }, 'scheduled reconciliation repaired installations');
        }
      }
      if (lastStop === null) {
        cursor = next ? JSON.stringify(next) : null;
        nextRunAt = clock.now() + config.intervalMs;
      }
    } finally {
      await store.write({ kind: 'releaseReconcileWalk', name: RECONCILE_WALK_NAME, owner, cursor, nextRunAt, lastStop, now: clock.now() });
    }
    return result;
  }

  /** From `after`: the installations not heard from since `cutoff`, up to a slice, and where the walk stands after them. */
  async function dueSlice(after: Position | null, cutoff: number) {
    const due: string[] = [];
    let examined = 0;
    let position = after;
    for (;;) {
      const page = await reconciler.walkPage(position, WALK_SCAN_PAGE_ROWS);
      let last: InstallationRecord | null = null;
      for (const row of page.rows) {
        if (due.length >= config.sliceSize || examined >= WALK_SCAN_MAX_ROWS)
          return { due, examined, next: last ? positionAfter(last) : position, wrapped: false };
        last = row;
        examined++;
        if (Math.max(row.lastEventAt, row.checkedAt ?? Number.NEGATIVE_INFINITY) <= cutoff) due.push(row.instanceId);
      }
      if (!page.next) return { due, examined, next: null, wrapped: true };
      position = page.next;
    }
  }

  function schedule(delayMs: number): void {
    if (stopping) return;
    timer = setTimeout(() => {
      running = runOnce()
        .catch((err) => logger.error({ err }, 'scheduled reconciliation failed; trying again at the next interval'))
        .finally(() => {
          running = null;
          schedule(config.intervalMs);
        });
    }, delayMs);
    timer.unref?.();
  }

  return {
    owner,
    runOnce,
    /** Looks for a due slice every interval, the first one an interval after start. */
    start(): void {
      stopping = false;
      schedule(config.intervalMs);
    },
    /** Stops between instances; gives the lease back. */
    async stop(): Promise<void> {
      stopping = true;
      if (timer) clearTimeout(timer);
      abort.abort();
      await running;
    },
  };
}

export type ReconcileScheduler = ReturnType<typeof createReconcileScheduler>;
