import { availableParallelism } from 'node:os';
import type { WriteCommand, WriteResult } from '../commands.ts';
import { StorageUnavailableError, type ChangeListener, type RegistryStore } from '../store.ts';
import { deserializeError } from './errors.ts';
import type { SqliteReadOptions } from './reads/index.ts';
import { inlineReader, openReaderPool, type ReaderTransport } from './reader-pool.ts';
import { acquireThread, releaseThread } from './threads/thread-pool.ts';
import { inlineWriter, startWriterThread, type WriterTransport } from './writer-client.ts';

/**
 * The SQLite RegistryStore: one writer (writer-client.ts; the thread in threads/writer-thread.ts)
 * and readers beside it (reader-pool.ts; threads/reader-thread.ts), behind the one interface
 * (src/db/store.ts). What the event loop does here is pass messages and group writes per turn.
 */

export interface SqliteStoreOptions {
  /**
   * true (the server): the writer and the readers run on threads of their own, so the event loop
   * only passes messages. false (the CLI, a script): both run on the caller's thread.
   */
  threads?: boolean;
  /** Reader threads (default: one per core, 1 to 4). */
  readers?: number;
  readQueueMaxWaitMs?: number;
  readQueueMaxLength?: number;
  busyTimeoutMs?: number;
  /** The read planner's knobs (tests force access paths and page sizes with them). */
  reads?: SqliteReadOptions;
}

/** What a store's connections are set to: a test asserts on them. */
export interface SqlitePragmaReport {
  writer: Record<string, unknown>;
  readers: Record<string, unknown>[];
}

export type SqliteStore = RegistryStore & {
  /** The pragmas of the connections this store really opened. */
  pragmas(): SqlitePragmaReport;
  /** Runs a pragma on the writer's connection (tests of database trouble). */
  writerPragma(text: string): Promise<unknown>;
};

/** Opens (creating and migrating if needed) the SQLite file and the connections around it. */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
  const threads = options.threads ?? true;
  const commitListeners: ((commands: number) => void)[] = [];
  const writerOptions = {
    busyTimeoutMs: options.busyTimeoutMs,
    onCommit: (commands: number) => commitListeners.forEach((listener) => listener(commands)),
  };
  let writer: WriterTransport;
  let readers: ReaderTransport;
  if (threads) {
    const readerCount = options.readers ?? Math.min(4, Math.max(1, availableParallelism()));
    // Readers load (or come from the pool) while the writer creates and migrates the file; they open it after.
    const loading = Promise.all(Array.from({ length: readerCount }, () => acquireThread('reader')));
    try {
      writer = await startWriterThread(path, writerOptions);
    } catch (error) {
      for (const worker of await loading.catch(() => [])) releaseThread('reader', worker);
      throw error;
    }
    readers = await openReaderPool(path, await loading, options);
  } else {
    writer = inlineWriter(path, writerOptions);
    readers = inlineReader(path, options.reads ?? {});
  }
  return createStore(path, writer, readers, commitListeners);
}

function createStore(
  path: string,
  writer: WriterTransport,
  readers: ReaderTransport,
  commitListeners: ((commands: number) => void)[],
): SqliteStore {
  let closed = false;
  // Group commit on this side: what is written in one event-loop turn goes to the writer as one
  // message; the writer merges whatever queued up while it was committing.
  let queued: { command: WriteCommand; resolve: (value: unknown) => void; reject: (error: unknown) => void }[] = [];
  let scheduled = false;
  const inFlight = new Set<Promise<void>>();
  const changeListeners = new Set<ChangeListener>();

  /** After a commit that appended changes: the feed's long-polls look again. */
  function announceChanges(position: number): void {
    if (position <= 0) return;
    for (const listener of [...changeListeners]) {
      try {
        listener({ position });
      } catch {
        // one listener's failure is not the writer's, nor the other listeners'
      }
    }
  }

  function flush(): void {
    scheduled = false;
    if (queued.length === 0) return;
    const batch = queued;
    queued = [];
    const done = writer.run(batch.map((entry) => entry.command)).then(
      ({ outcomes, appendedPosition }) => {
        outcomes.forEach((outcome, i) => {
          const entry = batch[i]!;
          if (outcome.ok) entry.resolve(outcome.value);
          else entry.reject(deserializeError(outcome.error));
        });
        announceChanges(appendedPosition);
      },
      (error) => batch.forEach((entry) => entry.reject(error)),
    );
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  }

  const read: ReaderTransport['run'] = (op, args, options) =>
    closed ? Promise.reject(new StorageUnavailableError('The store is closed')) : readers.run(op, args, options);

  const store: SqliteStore = {
    engine: 'sqlite',
    location: path,
    write<C extends WriteCommand>(command: C): Promise<WriteResult<C>> {
      if (closed) return Promise.reject(new StorageUnavailableError('The store is closed'));
      if (!writer.alive()) return Promise.reject(new StorageUnavailableError('The writer thread is not running'));
      return new Promise((resolve, reject) => {
        queued.push({ command, resolve: resolve as (value: unknown) => void, reject });
        if (!scheduled) {
          scheduled = true;
          // setImmediate runs after the poll phase: every request parsed in this turn joins the batch.
          setImmediate(flush);
        }
      });
    },
    installations: {
      page: (request) => read('installationPage', [request]),
      pageJson: (request) => read('installationPageJson', [request]),
      get: (instanceId) => read('installation', [instanceId]),
      history: (instanceId) => read('history', [instanceId]),
      status: (instanceId) => read('status', [instanceId]),
      counts: () => read('installationCounts', []),
      newestActive: () => read('newestActive', []),
      dailySummary: (window) => read('dailySummary', [window]),
      async exportChunks(query, format) {
        let chunk = await read('exportChunk', [query, format, null, true]);
        async function* chunks(): AsyncGenerator<string> {
          for (;;) {
            if (chunk.text) yield chunk.text;
            if (!chunk.next) return;
            // A continuation waits its turn with the other reads, but is never refused: the
            // client already has half a file.
            chunk = await read('exportChunk', [query, format, chunk.next, false], { waitsForever: true });
          }
        }
        return chunks();
      },
    },
    outbox: {
      list: (filter) => read('outboxJobs', [filter]),
      counts: () => read('outboxCounts', []),
      openCountsByKind: () => read('outboxOpenCountsByKind', []),
      nextDueAt: (lane) => read('nextDueAt', [lane ?? null]),
    },
    changes: {
      page: (after, limit) => read('changesPage', [after, limit]),
      latest: (filter) => read('changesLatest', [filter]),
      get: (position) => read('change', [position]),
      subscribe(listener) {
        changeListeners.add(listener);
        return () => void changeListeners.delete(listener);
      },
    },
    push: {
      endpoints: () => read('pushEndpoints', []),
    },
    deliveries: {
      list: (filter) => read('deliveries', [filter]),
      jwt: (deliveryId) => read('deliveryJwt', [deliveryId]),
    },
    observeCommits: (listener) => void commitListeners.push(listener),
    audit: {
      tokenHandouts: (request) => read('tokenHandouts', [request]),
    },
    sessions: {
      find: (idHash) => read('session', [idHash]),
      list: () => read('sessions', []),
    },
    isReady: () => !closed && writer.alive(),
    pragmas: () => ({ writer: writer.pragmas, readers: readers.pragmas }),
    writerPragma: (text) => writer.pragma(text),
    async close() {
      if (closed) return;
      flush();
      closed = true;
      changeListeners.clear();
      await Promise.allSettled([...inFlight]);
      await Promise.all([writer.close(), readers.close()]);
    },
  };
  return store;
}
