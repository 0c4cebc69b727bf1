import { CHANGES_RETRY_BASE_MS, CHANGES_RETRY_CAP_MS, retryDelayMs, sleep, type BackoffPolicy } from './backoff.js';
import { RegistryError } from './errors.js';
import type { RegistryHttp } from './http.js';
import type { Change, ChangePage } from './types.js';

/** How long one request for changes waits for a change to commit when there is none (the API allows 1–60 s). */
export const CHANGES_WAIT_SECONDS = 30;
/** A long-poll with no answer this long after its wait is over counts as a network failure. */
export const CHANGES_POLL_GRACE_MS = 15_000;

export interface FollowChangesOptions {
  /**
   * Where to start: a `cursor` saved from an earlier ChangeEntry (or a page's `nextCursor`).
   * Without it (or null), from the first change the registry recorded.
   */
  after?: string | null;
  /** Changes per request, 1–1000 (the registry's default is 100). */
  limit?: number;
  /** Seconds each request waits for a change when there is none, 1–60 (default 30). */
  waitSeconds?: number;
  /** Ends the iteration (quietly: the loop just finishes), also during a wait or a backoff. */
  signal?: AbortSignal;
  /** Waits between failed attempts: `baseMs` doubling up to `capMs` (default 1 s → 60 s), with jitter. */
  backoff?: Partial<BackoffPolicy>;
  /** Told about each failure that will be retried, before the wait: for logs and metrics. */
  onRetry?(info: { error: RegistryError; failures: number; delayMs: number }): void;
  /** Jitter source, [0, 1). */
  random?: () => number;
}

/**
 * One change and the cursor to save once it has been handled. Resuming from `cursor` never
 * skips a later change. It is exact (nothing handled is seen again) for the last change of each
 * page the registry answered; for the others it is where that page began, since the registry
 * hands out cursors per page: a process stopped mid-page sees that page's earlier changes again.
 * So delivery is at least once: make handling idempotent, or dedupe by `change.id`.
 * null means "from the first change".
 */
export interface ChangeEntry {
  change: Change;
  cursor: string | null;
}

/**
 * Follows GET /v1/changes: long-polls for new changes, yields them in commit order, and retries
 * whatever is worth retrying (no answer, 5xx, 429) after a backoff that honours Retry-After.
 * Refusals (a bad API key, a bad cursor, a registry without /v1/changes) end it by throwing
 * a RegistryError.
 */
export async function* followChanges(http: RegistryHttp, options: FollowChangesOptions = {}): AsyncGenerator<ChangeEntry, void, undefined> {
  const waitSeconds = options.waitSeconds ?? CHANGES_WAIT_SECONDS;
  if (!Number.isInteger(waitSeconds) || waitSeconds < 1 || waitSeconds > 60) {
    throw new RangeError('waitSeconds must be a whole number of seconds from 1 to 60: a follower long-polls');
  }
  const policy: BackoffPolicy = {
    baseMs: options.backoff?.baseMs ?? CHANGES_RETRY_BASE_MS,
    capMs: options.backoff?.capMs ?? CHANGES_RETRY_CAP_MS,
  };
  const { signal } = options;
  let after = options.after ?? null;
  let failures = 0;

  while (!signal?.aborted) {
    let page: ChangePage;
    try {
      page = checkPage(
        await http.json<unknown>({
          method: 'GET',
          path: '/v1/changes',
          query: { after, limit: options.limit, wait: waitSeconds },
          signal,
          timeoutMs: waitSeconds * 1000 + CHANGES_POLL_GRACE_MS,
        }),
      );
    } catch (err) {
      if (signal?.aborted) return;
      if (!(err instanceof RegistryError) || !err.retryable) throw err;
      failures += 1;
      const delayMs = retryDelayMs(failures, policy, err.retryAfterMs, options.random);
      options.onRetry?.({ error: err, failures, delayMs });
      if (!(await sleep(delayMs, signal))) return;
      continue;
    }
    failures = 0;
    const pageStart = after;
    for (const [index, change] of page.items.entries()) {
      if (signal?.aborted) return;
      yield { change, cursor: index === page.items.length - 1 ? page.nextCursor : pageStart };
    }
    after = page.nextCursor;
  }
}

function checkPage(body: unknown): ChangePage {
  const page = body as Partial<ChangePage> | null;
  if (!page || !Array.isArray(page.items) || typeof page.nextCursor !== 'string') {
    throw new RegistryError('unavailable', 'Registry GET /v1/changes: the answer is not a page of changes ({ items, nextCursor })');
  }
  return page as ChangePage;
}
