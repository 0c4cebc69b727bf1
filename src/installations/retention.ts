import type { Clock } from '../clock.ts';
import type { RegistryStore } from '../db/store.ts';
import type { Logger } from '../logger.ts';
import { iso } from './time.ts';

/**
 * Retention (issue 12). A delivery's raw JWT matters while Wix may resend it (about 47 hours:
 * docs/wix-protocol.md) and for a while after, to replay it byte for byte; it is most of what a
 * delivery weighs. After RAW_DELIVERY_RETENTION_DAYS the JWT is dropped; the delivery keeps its
 * SHA-256 (so dedupe still answers a resend `duplicate`, then and forever), its parsed payload (the
 * history the state is folded from) and its outcome. Installations, the per-day summary, outbox
 * jobs and the token audit are kept as they are. Expired dashboard sessions are deleted too.
 *
 * Off the webhook path: the server runs it on a timer, in small batches (each one write command
 * that holds the writer for a few milliseconds), pausing between batches and longer while
 * webhooks are streaming in.
 */

export const RAW_DELIVERY_RETENTION_DAYS_DEFAULT = 30;
/** Wix resends an unanswered delivery for about 47 hours: its JWT must still be there to compare. */
export const RAW_DELIVERY_RETENTION_DAYS_MIN = 3;
export const RAW_DELIVERY_RETENTION_DAYS_MAX = 36_500;
/** Deliveries per batch: each batch is one write command, a few milliseconds of the writer's time. */
export const RETENTION_BATCH_ROWS = 200;
/** Between two batches of one run. */
export const RETENTION_BATCH_PAUSE_MS = 20;
/** Between two batches while webhooks are streaming in: they come first. */
export const RETENTION_BUSY_PAUSE_MS = 1_000;
/** How often the server looks for what is due. */
export const RETENTION_INTERVAL_MS = 10 * 60_000;
/** The first run after start: not in the middle of start-up. */
export const RETENTION_FIRST_RUN_DELAY_MS = 60_000;

const DAY_MS = 86_400_000;

export interface RetentionRun {
  /** Deliveries whose raw JWT was dropped. */
  rawJwtsPruned: number;
  /** Write commands it took. */
  batches: number;
  /** Expired dashboard sessions deleted. */
  sessionsDeleted: number;
  /** JWTs received before this were due (epoch ms). */
  receivedBefore: number;
}

export interface RetentionOptions {
  store: Pick<RegistryStore, 'write'>;
  clock: Clock;
  logger: Logger;
  rawDeliveryRetentionDays: number;
  /** True while webhooks are streaming in (the registry's own signal, as for the outbox). */
  busy?: () => boolean;
  batchRows?: number;
  batchPauseMs?: number;
  busyPauseMs?: number;
  intervalMs?: number;
  firstRunDelayMs?: number;
}

export function createRetention(options: RetentionOptions) {
  const { store, clock, logger } = options;
  const batchRows = options.batchRows ?? RETENTION_BATCH_ROWS;
  const batchPauseMs = options.batchPauseMs ?? RETENTION_BATCH_PAUSE_MS;
  const busyPauseMs = options.busyPauseMs ?? RETENTION_BUSY_PAUSE_MS;
  const busy = options.busy ?? (() => false);
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let scheduledRun: Promise<unknown> | null = null;
  let cancelPause: (() => void) | null = null;

  /** Waits `ms`, or until stop(). */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      cancelPause = () => (clearTimeout(t), resolve());
    }).finally(() => (cancelPause = null));

  /**
   * Batch after batch until nothing is due (or `shouldStop`). Each batch is its own command, so
   * two runs at once (the CLI beside the server) only share the work.
   */
  async function run(shouldStop: () => boolean): Promise<RetentionRun> {
    const receivedBefore = clock.now() - options.rawDeliveryRetentionDays * DAY_MS;
    let rawJwtsPruned = 0;
    let batches = 0;
    for (;;) {
      const batch = await store.write({ kind: 'pruneRawJwts', receivedBefore, limit: batchRows, now: clock.now() });
      batches++;
      rawJwtsPruned += batch.pruned;
      if (batch.done || shouldStop()) break;
      await pause(busy() ? busyPauseMs : batchPauseMs);
      if (shouldStop()) break;
    }
    const sessionsDeleted = await store.write({ kind: 'endExpiredSessions', now: clock.now() });
    if (rawJwtsPruned > 0)
      logger.info({ rawJwtsPruned, batches, receivedBefore: iso(receivedBefore) }, 'retention: dropped the raw JWTs of old deliveries');
    return { rawJwtsPruned, batches, sessionsDeleted, receivedBefore };
  }

  function schedule(delayMs: number): void {
    timer = setTimeout(() => {
      scheduledRun = run(() => stopped)
        .catch((err: unknown) => logger.warn({ err }, 'retention run failed; the next one tries again'))
        .finally(() => {
          scheduledRun = null;
          if (!stopped) schedule(options.intervalMs ?? RETENTION_INTERVAL_MS);
        });
    }, delayMs);
    timer.unref();
  }

  return {
    /** Prunes everything due now, batch after batch, and deletes expired sessions. */
    runOnce: (): Promise<RetentionRun> => run(() => false),
    /** Runs on a timer (the server): first after RETENTION_FIRST_RUN_DELAY_MS, then every RETENTION_INTERVAL_MS. */
    start(): void {
      if (!stopped) return;
      stopped = false;
      schedule(options.firstRunDelayMs ?? RETENTION_FIRST_RUN_DELAY_MS);
    },
    /** Stops the timer; a timer run in progress stops after its current batch. */
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      cancelPause?.();
      await scheduledRun;
    },
  };
}

export type Retention = ReturnType<typeof createRetention>;
