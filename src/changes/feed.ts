/**
 * Reading the change feed: pages in commit order, a long-poll woken by the commit itself, and a
 * follower for the CLI. Everything here reads through the storage boundary's `changes` group:
 * `page(after, limit)` and `subscribe(listener)`; whatever guarantees the engine gives there (no
 * position handed out while a lower one can still commit; a notice after each commit that appended
 * changes) are the feed's guarantees.
 */
import { z } from 'zod';
import type { RegistryStore } from '../db/store.ts';
import { AppError } from '../errors.ts';
import { paramDescription } from '../installations/query-schemas.ts';
import { decodeChangeCursor, encodeChangeCursor } from './cursor.ts';
import type { ChangeRecord } from './model.ts';
import { toChange, type Change } from './serialize.ts';

export const CHANGES_LIMIT_DEFAULT = 100;
export const CHANGES_LIMIT_MAX = 1_000;
export const CHANGES_WAIT_MAX_SEC = 60;

/** GET /v1/changes. */
export const changesQuerySchema = z
  .object({
    after: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .meta(paramDescription('Opaque: a `nextCursor` this feed returned. Without it, from the first change.')),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(CHANGES_LIMIT_MAX)
      .default(CHANGES_LIMIT_DEFAULT)
      .meta(paramDescription('Changes per page, 1–1000.')),
    wait: z.coerce
      .number()
      .int()
      .min(0)
      .max(CHANGES_WAIT_MAX_SEC)
      .default(0)
      .meta(
        paramDescription(
          'Seconds (0–60) to hold the request open when there is nothing after `after`: it is answered as soon as a change commits, or with an empty page when the wait ends.',
        ),
      ),
  })
  .strict();

export type ChangesQuery = z.output<typeof changesQuerySchema>;

/** One page of GET /v1/changes. */
export interface ChangePage {
  items: Change[];
  /** Always a string: the position of the page's last change, or `after` itself when the page is empty. */
  nextCursor: string;
}

/** Records and where they end: what the CLI and the routes build their answers from. */
export interface ChangeRecordPage {
  records: ChangeRecord[];
  /** The position to continue after. */
  position: number;
}

export function createChangeFeed(deps: { store: RegistryStore }) {
  const { store } = deps;
  /** Long-polls waiting right now: shutdown answers them at once rather than holding the drain. */
  const waiting = new Set<() => void>();
  let released = false;

  /**
   * Up to `limit` changes after `after`; when there are none and `waitMs` > 0, waits for a commit
   * that appends one (then reads again) until `waitMs` passes, `signal` aborts, or the feed is
   * released. The subscription is taken before the first read, so a commit between that read and
   * the wait is not missed.
   */
  async function readAfter(after: number, limit: number, waitMs = 0, signal?: AbortSignal): Promise<ChangeRecordPage> {
    const bell = waitMs > 0 && !released ? doorbell(after) : null;
    try {
      const deadline = performance.now() + waitMs;
      for (let first = true; ; first = false) {
        const { rows, last } = await store.changes.page(after, limit);
        // Positions only grow, so a cursor beyond the newest one was never handed out by this feed.
        if (first && after > last)
          throw new AppError('bad_request', 'after: not a cursor of this feed (it is ahead of every change recorded)');
        if (rows.length > 0) return { records: rows, position: rows.at(-1)!.position };
        const remaining = deadline - performance.now();
        if (!bell || remaining <= 0 || released || signal?.aborted) return { records: [], position: after };
        await bell.ring(remaining, signal);
      }
    } finally {
      bell?.close();
    }
  }

  /** Resolves `ring` when a commit appends a change after `after`, or was told of one already. */
  function doorbell(after: number) {
    let rung = false;
    let wake: (() => void) | null = null;
    const unsubscribe = store.changes.subscribe(({ position }) => {
      if (position <= after) return;
      rung = true;
      wake?.();
    });
    return {
      ring(ms: number, signal?: AbortSignal): Promise<void> {
        return new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            waiting.delete(done);
            wake = null;
            rung = false;
            resolve();
          };
          const timer = setTimeout(done, ms);
          signal?.addEventListener('abort', done, { once: true });
          waiting.add(done);
          wake = done;
          if (rung) done();
        });
      },
      close: unsubscribe,
    };
  }

  return {
    /** GET /v1/changes: a page in commit order, long-polled for `wait` seconds when empty. */
    async page(query: ChangesQuery, signal?: AbortSignal): Promise<ChangePage> {
      const after = query.after === undefined ? 0 : decodeChangeCursor(query.after);
      const page = await readAfter(after, query.limit, query.wait * 1000, signal);
      return { items: page.records.map(toChange), nextCursor: encodeChangeCursor(page.position) };
    },

    readAfter,

    /**
     * Every change after `after`, as it commits, until `signal` aborts: waits on the store's notice
     * for this process's own commits, and reads again every `pollMs` for other processes' (the
     * CLI following a running server).
     */
    async *follow(options: {
      after: number;
      pollMs: number;
      limit?: number;
      signal?: AbortSignal;
    }): AsyncGenerator<ChangeRecord, void, undefined> {
      let after = options.after;
      while (!options.signal?.aborted && !released) {
        const page = await readAfter(after, options.limit ?? CHANGES_LIMIT_DEFAULT, options.pollMs, options.signal);
        for (const record of page.records) yield record;
        after = page.position;
      }
    },

    /** The newest position committed (0: none): where `--follow` without `--after` starts. */
    async head(): Promise<number> {
      return (await store.changes.page(Number.MAX_SAFE_INTEGER, 1)).last;
    },

    /** Newest first, optionally of one instance (the dashboard). */
    latest: (filter: { instanceId?: string | undefined; before?: number | undefined; limit: number }) => store.changes.latest(filter),

    /** Shutdown: every long-poll answers now (an empty page), and none waits from here on. */
    release(): void {
      released = true;
      for (const done of [...waiting]) done();
    },
  };
}

export type ChangeFeed = ReturnType<typeof createChangeFeed>;
