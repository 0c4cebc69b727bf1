import type Database from 'better-sqlite3';

/** Most deliveries one transaction takes; the rest wait for the next flush. */
export const GROUP_COMMIT_MAX_BATCH = 512;

export interface GroupCommitter<T, R> {
  /** Resolves once the item's work is committed (durable), rejects if it is not. */
  submit(item: T): Promise<R>;
  /** Commits whatever is queued now. */
  flush(): void;
  readonly pending: number;
}

/**
 * Group commit: work submitted within one event-loop turn shares one transaction, so one fsync
 * (synchronous=FULL) makes a whole batch of webhook deliveries durable. Each item runs in its
 * own savepoint: an item that throws is rolled back and rejected alone, the rest of the batch
 * still commits. If the commit itself fails, every item in the batch is rejected — none was
 * answered yet, so nothing was promised.
 */
export function createGroupCommitter<T, R>(sqlite: Database.Database, work: (item: T) => R): GroupCommitter<T, R> {
  type Pending = { item: T; resolve: (r: R) => void; reject: (e: unknown) => void };
  let queue: Pending[] = [];
  let scheduled = false;
  const runOne = sqlite.transaction(work);

  function flush(): void {
    scheduled = false;
    if (queue.length === 0) return;
    const batch = queue.length > GROUP_COMMIT_MAX_BATCH ? queue.splice(0, GROUP_COMMIT_MAX_BATCH) : queue.splice(0);
    if (queue.length > 0) schedule();
    const outcomes: ({ ok: true; value: R } | { ok: false; error: unknown })[] = [];
    try {
      sqlite.transaction(() => {
        for (const entry of batch) {
          try {
            // Nested better-sqlite3 transaction = SAVEPOINT: a failure undoes this item only.
            outcomes.push({ ok: true, value: runOne(entry.item) });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      }).immediate();
    } catch (error) {
      for (const entry of batch) entry.reject(error);
      return;
    }
    batch.forEach((entry, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) entry.resolve(outcome.value);
      else entry.reject(outcome.error);
    });
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    // setImmediate runs after the poll phase, so every request parsed in this turn joins the batch.
    setImmediate(flush);
  }

  return {
    submit(item) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        schedule();
      });
    },
    flush,
    get pending() {
      return queue.length;
    },
  };
}
