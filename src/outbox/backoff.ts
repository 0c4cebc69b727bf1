/** First retry after about this long; each further one waits twice as long… */
export const OUTBOX_RETRY_BASE_MS = 5_000;
/** …up to this cap… */
export const OUTBOX_RETRY_CAP_MS = 30 * 60_000;
/** …for at most this many attempts (1.6 to 3.2 hours from the first to the last, with the jitter), then the job is dead. */
export const OUTBOX_MAX_ATTEMPTS = 15;

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  baseMs: OUTBOX_RETRY_BASE_MS,
  capMs: OUTBOX_RETRY_CAP_MS,
  maxAttempts: OUTBOX_MAX_ATTEMPTS,
};

/**
 * Delay before the next attempt after `attempts` failed ones: exponential with "equal jitter"
 * (half fixed, half random) so retries of many jobs after an outage do not arrive together, and
 * never sooner than Wix's Retry-After.
 */
export function retryDelayMs(attempts: number, policy: BackoffPolicy, retryAfterMs?: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempts - 1));
  const jittered = exponential / 2 + (random() * exponential) / 2;
  return Math.round(Math.max(jittered, Math.min(retryAfterMs ?? 0, policy.capMs)));
}
