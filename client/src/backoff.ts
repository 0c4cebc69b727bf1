/** First wait after a failed request for changes; each further failure doubles it… */
export const CHANGES_RETRY_BASE_MS = 1_000;
/** …up to this cap. */
export const CHANGES_RETRY_CAP_MS = 60_000;
/** A Retry-After longer than this is taken as this (a misconfigured proxy must not park a follower for days). */
export const RETRY_AFTER_LIMIT_MS = 10 * 60_000;

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

/**
 * The wait before the next attempt after `failures` failed ones in a row: exponential with "equal
 * jitter" (half fixed, half random), so followers that lost the registry together do not all come
 * back at the same instant, and never sooner than the server's Retry-After.
 */
export function retryDelayMs(failures: number, policy: BackoffPolicy, retryAfterMs?: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  const jittered = exponential / 2 + (random() * exponential) / 2;
  return Math.round(Math.max(jittered, Math.min(retryAfterMs ?? 0, RETRY_AFTER_LIMIT_MS)));
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
