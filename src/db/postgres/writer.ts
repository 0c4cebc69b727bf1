import type pg from 'pg';
import { instanceOf, runCommand, type WriteCommand } from '../commands.ts';
import { StorageUnavailableError } from '../store.ts';
import { isPostgresUnavailable, isRetryableConflict, toStorageError } from './errors.ts';
import { CHANGE_FEED_LOCK, createPostgresWriteStatements, type PostgresWriteStatements } from './write-statements.ts';

/** Most commands one transaction takes; the rest wait for the next one (as on SQLite). */
export const GROUP_COMMIT_MAX_COMMANDS = 512;
/** A batch that deadlocked with another replica's (40P01) or hit a serialization failure is run again this many times at most. */
export const BATCH_CONFLICT_RETRIES = 5;

/**
 * The commands whose transaction takes the change-feed lock at BEGIN, before any other lock.
 * Those that can append a change (ingest, replay, finishJob, recordCheck: src/changes/record.ts
 * is reached from them only) must: taken later, replica A could hold instance X and wait for the
 * feed lock while replica B holds the feed lock and waits for X. The outbox's commands take it
 * too: they write the same few hot rows (registry_counters, kept by triggers; push_endpoints) and
 * the per-endpoint claim lock, and in a batch beside an ingest they would otherwise lock those in
 * an order another replica's batch could cross. One lock first in every such transaction keeps
 * every replica's locks in one order. Audit, sessions, state and the reconcile lease touch none
 * of those and go without.
 */
const TAKES_FEED_LOCK: ReadonlySet<WriteCommand['kind']> = new Set([
  'ingest',
  'replay',
  'finishJob',
  'recordCheck',
  'claimJobs',
  'retryJob',
  'killJob',
  'releaseJobs',
  'recoverJobs',
  'requeueJobs',
  'configurePushEndpoints',
]);

interface QueuedWrite {
  command: WriteCommand;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface PostgresWriterOptions {
  /** After each COMMIT: how many commands it held, and the highest change position it appended (0: none). */
  onCommit(commands: number, appendedPosition: number): void;
}

/**
 * Group commit on PostgreSQL. The commands queued during one event-loop turn become one
 * transaction on a connection of the write pool: BEGIN, then each command in its own savepoint
 * (a failing command is rolled back alone and only its promise rejects), then one COMMIT, so a
 * batch costs one WAL flush. One batch is in flight at a time; the next accumulates meanwhile.
 * A failed BEGIN or COMMIT, or a connection lost mid-batch, rejects every command of the batch
 * with StorageUnavailableError: none was answered yet, and the transaction rolled back with its
 * connection, so nothing is half-written.
 *
 * Between replicas: a batch is ordered by instance (instanceOf) so instance locks are always
 * taken in the same order, the change-feed lock comes first, and a batch that deadlocks anyway
 * (a replay locks an instance it learns mid-script) is run again whole.
 */
export function createPostgresWriter(pool: pg.Pool, options: PostgresWriterOptions) {
  let queued: QueuedWrite[] = [];
  let scheduled = false;
  let running: Promise<void> | null = null;
  const statementsOf = new WeakMap<pg.PoolClient, PostgresWriteStatements>();

  function schedule(): void {
    if (scheduled || running || queued.length === 0) return;
    scheduled = true;
    // setImmediate runs after the poll phase: every request parsed in this turn joins the batch.
    setImmediate(startBatch);
  }

  function startBatch(): void {
    scheduled = false;
    if (running || queued.length === 0) return;
    const batch = queued.slice(0, GROUP_COMMIT_MAX_COMMANDS);
    queued = queued.slice(batch.length);
    running = runBatch(batch).finally(() => {
      running = null;
      schedule();
    });
  }

  async function runBatch(batch: QueuedWrite[]): Promise<void> {
    // Stable: the commands of one instance keep their order of arrival.
    const ordered = [...batch].sort((a, b) => compareInstances(instanceOf(a.command), instanceOf(b.command)));
    const takesFeedLock = ordered.some((entry) => TAKES_FEED_LOCK.has(entry.command.kind));
    let lastError: unknown;
    for (let attempt = 0; attempt <= BATCH_CONFLICT_RETRIES; attempt++) {
      let result: { outcomes: Outcome[]; appendedPosition: number } | 'conflict';
      try {
        result = await transaction(ordered, takesFeedLock);
      } catch (error) {
        const unavailable = toStorageError(error);
        const reason =
          unavailable instanceof StorageUnavailableError
            ? unavailable
            : new StorageUnavailableError(`The transaction failed: ${String((error as Error)?.message ?? error)}`);
        for (const entry of ordered) entry.reject(reason);
        return;
      }
      if (result === 'conflict') {
        lastError = new StorageUnavailableError('Writes kept conflicting with another replica', '40P01');
        continue;
      }
      const { outcomes, appendedPosition } = result;
      ordered.forEach((entry, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) entry.resolve(outcome.value);
        else entry.reject(outcome.error);
      });
      try {
        options.onCommit(ordered.length, appendedPosition);
      } catch {
        // a listener's failure is not the writer's
      }
      return;
    }
    for (const entry of ordered) entry.reject(lastError);
  }

  /** One attempt at the batch: its outcomes, or 'conflict' when it must be run again whole. Throws when the transaction itself failed. */
  async function transaction(
    ordered: QueuedWrite[],
    takesFeedLock: boolean,
  ): Promise<{ outcomes: Outcome[]; appendedPosition: number } | 'conflict'> {
    const client = await pool.connect();
    let broken: Error | undefined;
    let statements = statementsOf.get(client);
    if (!statements) {
      statementsOf.set(client, (statements = createPostgresWriteStatements(client)));
      // A connection that dies while checked out emits 'error' besides failing the query in
      // flight (which is how the batch learns of it); unheard, that event would crash the process.
      client.on('error', () => {});
    }
    statements.transactionEnded();
    statements.takeAppendedPosition();
    try {
      // Statements without parameters travel together (simple query protocol): one round trip
      // each for BEGIN with the first savepoint, and for every savepoint after that.
      try {
        await client.query(
          takesFeedLock ? `BEGIN; SELECT pg_advisory_xact_lock(${CHANGE_FEED_LOCK}); SAVEPOINT command` : 'BEGIN; SAVEPOINT command',
        );
        if (takesFeedLock) statements.changeFeedLocked();
        const outcomes: Outcome[] = [];
        for (const [i, entry] of ordered.entries()) {
          // After a rollback to it the savepoint still stands; after a success it is renewed
          // (released, so 512 commands do not nest 512 subtransactions).
          if (i > 0 && outcomes[i - 1]!.ok) await client.query('RELEASE SAVEPOINT command; SAVEPOINT command');
          statements.savepointTaken();
          try {
            const instance = instanceOf(entry.command);
            // Every command on an instance holds its lock (the scripts ask again, a no-op): a
            // job's outcome then reads the installation no other replica is writing meanwhile.
            if (instance !== null) await statements.lockInstance(instance);
            outcomes.push({ ok: true, value: await runCommand(statements, entry.command) });
          } catch (error) {
            if (isRetryableConflict(error) || isPostgresUnavailable(error)) throw error;
            await client.query('ROLLBACK TO SAVEPOINT command');
            statements.savepointRolledBack();
            outcomes.push({ ok: false, error: toStorageError(error) });
          }
        }
        // COMMIT releases the last savepoint with the transaction.
        await client.query('COMMIT');
        return { outcomes, appendedPosition: statements.takeAppendedPosition() };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (isRetryableConflict(error)) return 'conflict';
        throw error;
      }
    } catch (error) {
      // A connection that failed mid-transaction is not given back to the pool.
      if (isPostgresUnavailable(error)) broken = error as Error;
      throw error;
    } finally {
      statements.transactionEnded();
      client.release(broken);
    }
  }

  return {
    /** Queues a command for the next group commit; resolves once its transaction committed. */
    write(command: WriteCommand): Promise<unknown> {
      return new Promise((resolve, reject) => {
        queued.push({ command, resolve, reject });
        schedule();
      });
    },
    /** Commits what is queued, and waits for the batch in flight. */
    async drain(): Promise<void> {
      while (running || queued.length > 0) {
        if (!running) startBatch();
        await running;
      }
    },
  };
}

export type PostgresWriter = ReturnType<typeof createPostgresWriter>;

/** Commands without an instance first (they lock none), then by instance id. */
function compareInstances(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}
