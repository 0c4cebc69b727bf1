import type { Clock } from '../clock.ts';
import { StorageBusyError, StorageUnavailableError, type RegistryStore } from '../db/store.ts';
import type { Logger } from '../logger.ts';
import { WixCallError } from '../wix/errors.ts';
import { DEFAULT_BACKOFF, retryDelayMs, type BackoffPolicy } from './backoff.ts';
import { JobFailure } from './failure.ts';
import type { JobHandler } from './jobs.ts';
import { describeEndpoint } from './push.ts';
import type { OutboxJob, OutboxJobKind } from './model.ts';

/** How long a claimed job may run before another worker may take it back (its worker died). */
export const OUTBOX_LEASE_MS = 60_000;

/** Longest the worker sleeps between looks at the table (jobs enqueued by webhooks wake it at once). */
export const OUTBOX_POLL_INTERVAL_MS = 1_000;
/** Jobs run at the same time. */
export const OUTBOX_CONCURRENCY = 8;

/**
 * Webhooks come first: Wix gives a delivery 1250 ms, a BI event can wait. While deliveries are
 * streaming in (`busy()`), the worker claims at most one batch per this interval, so it never
 * starves, and catches up at full speed when the burst ends.
 */
export const OUTBOX_BUSY_CLAIM_INTERVAL_MS = 1_000;

export interface OutboxWorkerOptions {
  /** Claims and outcomes are write commands: jobs finishing together share one group commit. */
  store: RegistryStore;
  /** True while the process is busy with webhook deliveries. */
  busy?: () => boolean;
  /** The work behind each kind this worker claims. */
  handlers: Partial<Record<OutboxJobKind, JobHandler>>;
  /**
   * Which jobs this worker claims: without it, the jobs that call Wix; with an endpoint, the push
   * jobs of that endpoint. Each lane has its own worker and concurrency, so a slow endpoint holds
   * its own slots only.
   */
  lane?: { endpoint: string };
  /** Returns jobs a dead process left running to the queue on start (one worker per process does). Default true. */
  recoverOnStart?: boolean;
  clock: Clock;
  logger: Logger;
  backoff?: BackoffPolicy;
  pollIntervalMs?: number;
  concurrency?: number;
  random?: () => number;
}

/**
 * Runs outbox jobs in the server process: claims due jobs (a short write transaction), calls Wix
 * outside any transaction, then records the outcome. A job is marked done as soon as Wix accepts
 * it, so only a crash between Wix's answer and that commit can repeat a call.
 */
export function createOutboxWorker(options: OutboxWorkerOptions) {
  const { store, clock, logger } = options;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const concurrency = options.concurrency ?? OUTBOX_CONCURRENCY;
  const pollIntervalMs = options.pollIntervalMs ?? OUTBOX_POLL_INTERVAL_MS;
  const running = new Map<number, Promise<void>>();
  const endpoint = options.lane?.endpoint ?? null;
  /** For logs: never the raw URL, which may hold a credential. */
  const laneFields = endpoint === null ? {} : { endpoint: describeEndpoint(endpoint) };
  let timer: NodeJS.Timeout | undefined;
  let timerDueAt = 0;
  let started = false;
  let stopping = false;
  let claiming = false;

  let lastClaimAt = Number.NEGATIVE_INFINITY;
  /** Settles when the claim in flight (if any) has started its jobs or given them back. */
  let claimSettled: Promise<void> = Promise.resolve();

  async function runJob(job: OutboxJob): Promise<void> {
    let effect;
    try {
      const handler = options.handlers[job.kind];
      if (!handler) throw new JobFailure(`no handler for ${job.kind} jobs in this worker`, false);
      effect = await handler(job);
    } catch (err) {
      await recordFailure(job, err);
      return;
    }
    try {
      // Done as soon as Wix accepted: the commit that records it is the next one.
      await store.write({ kind: 'finishJob', job, effect: effect ?? null, now: clock.now() });
      logger.info({ jobId: job.id, kind: job.kind, instanceId: job.instanceId, attempts: job.attempts, ...laneFields }, 'outbox job done');
    } catch (dbErr) {
      // The job stays "running" and is reclaimed when its lease lapses (a repeat call is harmless):
      // expected while the database is in trouble or the store is closing, a bug otherwise.
      logger[isStorageTrouble(dbErr) ? 'warn' : 'error']({ jobId: job.id, err: dbErr }, 'could not record outbox job completion');
    }
  }

  async function recordFailure(job: OutboxJob, err: unknown): Promise<void> {
    const now = clock.now();
    const failure = classifyFailure(err);
    const message = err instanceof Error ? err.message : String(err);
    const fields = { jobId: job.id, kind: job.kind, instanceId: job.instanceId, attempts: job.attempts, error: message, ...laneFields };
    // The endpoint's health counts what the endpoint did, not our own database's trouble.
    const endpointFailed = isStorageTrouble(err) ? null : job.endpoint;
    try {
      if (!failure.retryable || job.attempts >= backoff.maxAttempts) {
        await store.write({ kind: 'killJob', jobId: job.id, error: message, now, endpoint: endpointFailed });
        logger.warn(fields, 'outbox job dead');
      } else {
        const delay = retryDelayMs(job.attempts, backoff, failure.retryAfterMs, options.random);
        await store.write({ kind: 'retryJob', jobId: job.id, runAfter: now + delay, error: message, now, endpoint: endpointFailed });
        logger.info({ ...fields, retryInMs: delay }, 'outbox job will retry');
      }
    } catch (dbErr) {
      // The job stays "running" and is reclaimed when its lease lapses.
      logger[isStorageTrouble(dbErr) ? 'warn' : 'error']({ jobId: job.id, err: dbErr }, 'could not record outbox job failure');
    }
  }

  /** Claims and starts whatever is due; resolves when those jobs have finished. */
  async function runDue(): Promise<number> {
    const free = concurrency - running.size;
    if (free <= 0 || stopping || claiming) return 0;
    claiming = true;
    // stop() waits on this: until the claim's jobs are in `running`, or given back.
    let settle!: () => void;
    claimSettled = new Promise<void>((resolve) => (settle = resolve));
    let jobs: OutboxJob[];
    try {
      lastClaimAt = performance.now();
      jobs = await store.write({
        kind: 'claimJobs',
        now: clock.now(),
        limit: free,
        leaseMs: OUTBOX_LEASE_MS,
        ...(endpoint === null ? {} : { endpoint }),
      });
      if (stopping && jobs.length > 0) {
        // Stopped while the claim was committing: nothing new starts; the jobs go back to the
        // queue (their attempt not counted) before stop() lets the store close.
        await store.write({ kind: 'releaseJobs', jobIds: jobs.map((job) => job.id), now: clock.now() }).catch(() => undefined);
        settle();
        return 0;
      }
    } catch (err) {
      settle();
      if (!isStorageTrouble(err)) throw err;
      logger.warn({ err }, 'outbox: database busy, will look again');
      return 0;
    } finally {
      claiming = false;
    }
    const started = jobs.map((job) => {
      const promise = runJob(job).finally(() => running.delete(job.id));
      running.set(job.id, promise);
      return promise;
    });
    settle();
    await Promise.all(started);
    return jobs.length;
  }

  function schedule(delayMs: number): void {
    if (!started || stopping) return;
    const dueAt = performance.now() + Math.max(0, delayMs);
    // Only ever sooner: a burst of wakes costs one timer, not one each.
    if (timer && timerDueAt <= dueAt) return;
    if (timer) clearTimeout(timer);
    timerDueAt = dueAt;
    timer = setTimeout(tick, Math.max(0, delayMs));
    timer.unref?.();
  }

  function tick(): void {
    timer = undefined;
    const sinceClaim = performance.now() - lastClaimAt;
    if (options.busy?.() && sinceClaim < OUTBOX_BUSY_CLAIM_INTERVAL_MS) {
      schedule(OUTBOX_BUSY_CLAIM_INTERVAL_MS - sinceClaim);
      return;
    }
    void runDue()
      .catch((err) => {
        logger.error({ err, ...laneFields }, 'outbox worker error');
        return 0;
      })
      .then(async (claimed) => {
        if (running.size > 0 || stopping) return;
        let next = pollIntervalMs;
        try {
          const due = await store.outbox.nextDueAt({ endpoint });
          const wait = due === null ? pollIntervalMs : due - clock.now();
          // A job already due that this pass did not claim waits behind an earlier change of its
          // instance (push jobs): the poll interval, not a busy loop, until that one is done.
          if (wait > 0 || claimed > 0) next = Math.min(pollIntervalMs, wait);
        } catch {
          // database trouble: look again after the poll interval
        }
        schedule(next);
      });
  }

  return {
    async start(): Promise<void> {
      if (started) return;
      started = true;
      if (options.recoverOnStart ?? true) {
        const recovered = await store.write({ kind: 'recoverJobs', now: clock.now() });
        if (recovered > 0) logger.warn({ recovered }, 'outbox: jobs left running by a previous process are due again');
      }
      schedule(0);
    },
    /** Something was enqueued: look now rather than at the next poll. */
    wake(): void {
      if (running.size < concurrency) schedule(0);
    },
    /** One pass, for tests and tools: claims due jobs, runs them, resolves when they are done. */
    runDue,
    /**
     * Stops claiming; waits up to `graceMs` for running jobs to finish, then returns the rest to
     * the queue (their attempt not counted) so the next process runs them.
     */
    async stop(graceMs = 5_000): Promise<void> {
      stopping = true;
      if (timer) clearTimeout(timer);
      // A claim already sent either started its jobs (they are in `running` now) or gave them back.
      await claimSettled;
      if (running.size === 0) return;
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...running.values()]), new Promise((r) => (timeout = setTimeout(r, graceMs)))]);
      clearTimeout(timeout);
      if (running.size > 0)
        await store.write({ kind: 'releaseJobs', jobIds: [...running.keys()], now: clock.now() }).catch(() => undefined);
    },
    get running() {
      return running.size;
    },
  };
}

/** The database could not take the work for now: look again later. */
function isStorageTrouble(err: unknown): boolean {
  return err instanceof StorageUnavailableError || err instanceof StorageBusyError;
}

/** Whether a failed attempt is worth another, and not before when. */
function classifyFailure(err: unknown): { retryable: boolean; retryAfterMs?: number | undefined } {
  if (err instanceof WixCallError) return { retryable: err.retryable, retryAfterMs: err.details.retryAfterMs };
  if (err instanceof JobFailure) return { retryable: err.retryable, retryAfterMs: err.retryAfterMs };
  // A read refused or failed (the push handler reads its change): the database's trouble passes.
  if (isStorageTrouble(err)) return { retryable: true };
  return { retryable: !isPermanentLocalError(err) };
}

/** Errors from our own code that a retry cannot fix. */
function isPermanentLocalError(err: unknown): boolean {
  return err instanceof TypeError && !/fetch failed/i.test(err.message);
}

export type OutboxWorker = ReturnType<typeof createOutboxWorker>;
