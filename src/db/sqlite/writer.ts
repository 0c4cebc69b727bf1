import { runCommand, type WriteCommand } from '../commands.ts';
import { openConnection, readPragmas } from './connection.ts';
import { serializeError, type SerializedError } from './errors.ts';
import { migrateSqlite } from './migrate.ts';
import { createSearchIndexer, SEARCH_PENDING_HIGH_WATER } from './search-index.ts';
import { createSqliteWriteStatements } from './write-statements.ts';

/** Most commands one transaction takes; the rest wait for the next one. */
export const GROUP_COMMIT_MAX_COMMANDS = 512;
/**
 * The writer copies committed WAL frames into the database file when it has nothing else to do,
 * at most this often (a PASSIVE checkpoint never waits for readers). Commits never carry one.
 */
export const CHECKPOINT_INTERVAL_MS = 1_000;
/** A safety net: past this many WAL pages SQLite checkpoints on commit even under constant load. */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 20_000;

export type CommandOutcome = { ok: true; value: unknown } | { ok: false; error: SerializedError };

/** What one transaction did: an outcome per command, and the highest change position it committed (0: none). */
export interface BatchResult {
  outcomes: CommandOutcome[];
  /** For the change feed's listeners (RegistryStore.changes.subscribe): a hint, told only after COMMIT. */
  appendedPosition: number;
}

/**
 * The SQLite writer: the only connection that writes. Group commit: the commands it is given
 * together share one transaction and one fsync (synchronous=FULL), each in its own savepoint, so
 * one failing command is rolled back alone and the others still commit. If the transaction itself
 * fails (BEGIN waits past the busy timeout, COMMIT cannot write), every command in it fails: none
 * was answered yet, so nothing was promised.
 *
 * It runs on the writer thread (src/db/sqlite/threads/writer-thread.ts); the CLI runs it on its
 * own thread. Either way one batch runs at a time.
 */
export function createSqliteWriter(path: string, options: { busyTimeoutMs?: number | undefined; migrationsDir?: string | undefined } = {}) {
  const sqlite = openConnection(path, 'writer', options);
  migrateSqlite(sqlite, options.migrationsDir);
  sqlite.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  const tx = createSqliteWriteStatements(sqlite);
  const searchIndex = createSearchIndexer(sqlite);
  const begin = sqlite.prepare('BEGIN IMMEDIATE');
  const commit = sqlite.prepare('COMMIT');
  const savepoint = sqlite.prepare('SAVEPOINT command');
  const release = sqlite.prepare('RELEASE command');
  const rollbackToSavepoint = sqlite.prepare('ROLLBACK TO command');
  let busy = false;

  /** Runs the commands in one transaction; one outcome per command, in order. */
  async function runBatch(commands: readonly WriteCommand[]): Promise<BatchResult> {
    busy = true;
    try {
      tx.takeAppendedPosition();
      const everyone = (error: unknown): BatchResult => {
        tx.takeAppendedPosition();
        return { outcomes: commands.map(() => ({ ok: false, error: serializeError(error) })), appendedPosition: 0 };
      };
      try {
        begin.run();
      } catch (error) {
        return everyone(error);
      }
      const outcomes: CommandOutcome[] = [];
      for (const command of commands) {
        savepoint.run();
        try {
          // Statements are synchronous: the awaits inside resolve at once, and nothing else runs
          // on this connection until the batch is over.
          const value = await runCommand(tx, command);
          release.run();
          outcomes.push({ ok: true, value });
        } catch (error) {
          // Some errors (disk full, I/O) make SQLite roll the whole transaction back itself:
          // then the commands before this one are gone too.
          if (!sqlite.inTransaction) return everyone(error);
          rollbackToSavepoint.run();
          release.run();
          outcomes.push({ ok: false, error: serializeError(error) });
        }
      }
      try {
        commit.run();
      } catch (error) {
        if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
        return everyone(error);
      }
      // A command rolled back to its savepoint may have taken a position that did not commit: the
      // listeners read and find nothing new, which is harmless.
      return { outcomes, appendedPosition: tx.takeAppendedPosition() };
    } finally {
      busy = false;
    }
  }

  return {
    runBatch,
    /** Copies committed WAL frames into the database file, without waiting for anyone. */
    checkpoint(): void {
      if (busy || !sqlite.open) return;
      try {
        sqlite.pragma('wal_checkpoint(PASSIVE)');
      } catch {
        // busy: the next round
      }
    },
    /**
     * Work for when the writer has nothing else to do: a slice of the search index (true when
     * more is waiting). Also runs after a transaction when the backlog is past its high water.
     */
    indexSearch(): boolean {
      if (busy || !sqlite.open) return false;
      try {
        return searchIndex.indexSlice() > 0;
      } catch {
        return false; // busy or read-only: the next round
      }
    },
    searchBacklogHigh: () => sqlite.open && searchIndex.backlog() > SEARCH_PENDING_HIGH_WATER,
    /** For tests of database trouble: runs a pragma on the writer's own connection. */
    pragma: (text: string): unknown => sqlite.pragma(text),
    pragmas: () => readPragmas(sqlite),
    close(): void {
      if (!sqlite.open) return;
      try {
        sqlite.pragma('wal_checkpoint(PASSIVE)');
      } catch {
        // closing anyway
      }
      sqlite.close();
    },
  };
}

export type SqliteWriter = ReturnType<typeof createSqliteWriter>;
