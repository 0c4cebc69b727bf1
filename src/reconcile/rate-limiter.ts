import type { Clock } from '../clock.ts';

/** Sleeps on the real clock (tests inject one that moves a manual clock instead). */
export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface RateLimiter {
  /** Resolves when the next call may start: calls start at least 1000 / ratePerSec ms apart, and never before a hold ends. */
  take(): Promise<void>;
  /** No call starts before `at` (epoch ms): Wix's Retry-After, or a pause after a failure. */
  holdUntil(at: number): void;
  /** Calls let through so far. */
  readonly taken: number;
}

/**
 * The bound on how fast reconciliation and import call Wix: calls are spaced evenly, so in any
 * window of one second at most ⌈ratePerSec⌉ start, and a burst never happens (a large registry
 * is covered at a steady pace, not in spikes). Callers are served one at a time, in order. Time
 * and sleeping are injected: a test runs 10,000 checks on a manual clock and counts calls per
 * window.
 */
export function createRateLimiter(options: { ratePerSec: number; clock: Clock; sleep?: (ms: number) => Promise<void> }): RateLimiter {
  const { clock } = options;
  const sleep = options.sleep ?? realSleep;
  const spacingMs = 1000 / options.ratePerSec;
  let nextAt = Number.NEGATIVE_INFINITY;
  let heldUntil = Number.NEGATIVE_INFINITY;
  let queue: Promise<void> = Promise.resolve();
  let taken = 0;
  return {
    take() {
      const turn = queue.then(async () => {
        for (;;) {
          const now = clock.now();
          const at = Math.max(nextAt, heldUntil);
          if (at <= now) break;
          await sleep(at - now);
        }
        nextAt = clock.now() + spacingMs;
        taken++;
      });
      queue = turn.catch(() => undefined);
      return turn;
    },
    holdUntil(at) {
      heldUntil = Math.max(heldUntil, at);
    },
    get taken() {
      return taken;
    },
  };
}

/** A fetch that waits its turn with the limiter before every call. */
export function rateLimitedFetch(limiter: RateLimiter, send: typeof fetch = (...args) => globalThis.fetch(...args)): typeof fetch {
  return async (input, init) => {
    await limiter.take();
    return send(input, init);
  };
}
