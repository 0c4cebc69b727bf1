import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { WriteCommand, WriteResult } from '../commands.ts';
import { StorageBusyError, StorageUnavailableError, type RegistryStore } from '../store.ts';
import { openConnection, readPragmas } from './connection.ts';
import { deserializeError, serializeError, type SerializedError } from './errors.ts';
import { createSqliteReads, type SqliteReadOp, type SqliteReadOptions, type SqliteReads } from './reads/index.ts';
import type { FromReader, FromWriter, ToReader, ToWriter } from './threads/protocol.ts';
import { acquireThread, releaseThread } from './threads/thread-pool.ts';
import { createSqliteWriter, type CommandOutcome } from './writer.ts';

/** A read that waited this long for a reader is refused (503, Retry-After): webhooks come first. */
export const READ_QUEUE_MAX_WAIT_MS = 2_000;
/** Reads waiting at most; past this a new read is refused at once. */
export const READ_QUEUE_MAX_LENGTH = 1_000;
/** What the refusal's Retry-After says, in seconds. */
export const READ_RETRY_AFTER_SEC = 1;

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
  /** Told the size of each committed transaction (metrics). */
  onCommit?: (commands: number) => void;
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


interface WriterTransport {
  run(commands: WriteCommand[]): Promise<CommandOutcome[]>;
  pragma(text: string): Promise<unknown>;
  pragmas: Record<string, unknown>;
  alive(): boolean;
  close(): Promise<void>;
}

interface ReaderTransport {
  run<Op extends SqliteReadOp>(op: Op, args: Parameters<SqliteReads[Op]>, options?: { waitsForever?: boolean }): Promise<ReturnType<SqliteReads[Op]>>;
  pragmas: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Opens (creating and migrating if needed) the SQLite file and the connections around it. */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
  const threads = options.threads ?? true;
  let writer: WriterTransport;
  let readers: ReaderTransport;
  if (threads) {
    const readerCount = options.readers ?? Math.min(4, Math.max(1, availableParallelism()));
    // Readers load (or come from the pool) while the writer creates and migrates the file; they open it after.
    const loading = Promise.all(Array.from({ length: readerCount }, () => acquireThread('reader')));
    try {
      writer = await startWriterThread(path, options);
    } catch (error) {
      for (const worker of await loading.catch(() => [])) releaseThread('reader', worker);
      throw error;
    }
    readers = await openReaderPool(path, await loading, options);
  } else {
    writer = inlineWriter(path, options);
    readers = inlineReader(path, options.reads ?? {});
  }
  return createStore(path, writer, readers);
}

function createStore(path: string, writer: WriterTransport, readers: ReaderTransport): SqliteStore {
  let closed = false;
  // Group commit on this side: what is written in one event-loop turn goes to the writer as one
  // message; the writer merges whatever queued up while it was committing.
  let queued: { command: WriteCommand; resolve: (value: unknown) => void; reject: (error: unknown) => void }[] = [];
  let scheduled = false;
  const inFlight = new Set<Promise<void>>();

  function flush(): void {
    scheduled = false;
    if (queued.length === 0) return;
    const batch = queued;
    queued = [];
    const done = writer.run(batch.map((entry) => entry.command)).then(
      (outcomes) =>
        outcomes.forEach((outcome, i) => {
          const entry = batch[i]!;
          if (outcome.ok) entry.resolve(outcome.value);
          else entry.reject(deserializeError(outcome.error));
        }),
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
      nextDueAt: () => read('nextDueAt', []),
    },
    deliveries: {
      list: (filter) => read('deliveries', [filter]),
      jwt: (deliveryId) => read('deliveryJwt', [deliveryId]),
    },
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
      await Promise.allSettled([...inFlight]);
      await Promise.all([writer.close(), readers.close()]);
    },
  };
  return store;
}

// ---------------------------------------------------------------------------------------------
// Threads

/** Waits for the first message of a type from a thread, or fails on its error/exit or a 'failed' message. */
function nextMessage<T extends { type: string }>(worker: Worker, type: T['type']): Promise<T> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (message: T | { type: 'failed'; error: SerializedError }) => {
      if (message.type === type) {
        cleanup();
        resolve(message as T);
      } else if (message.type === 'failed') {
        cleanup();
        reject(deserializeError((message as { error: SerializedError }).error));
      }
    };
    const onError = (error: Error) => (cleanup(), reject(error));
    const onExit = () => (cleanup(), reject(new StorageUnavailableError('A database thread stopped')));
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

async function startWriterThread(path: string, options: SqliteStoreOptions): Promise<WriterTransport> {
  const worker = await acquireThread('writer');
  const opened = nextMessage<Extract<FromWriter, { type: 'opened' }>>(worker, 'opened');
  worker.postMessage({ type: 'open', path, busyTimeoutMs: options.busyTimeoutMs } satisfies ToWriter);
  let pragmas: Record<string, unknown>;
  try {
    pragmas = (await opened).pragmas;
  } catch (error) {
    releaseThread('writer', worker);
    throw error;
  }
  const pending = new Map<number, { resolve: (value: never) => void; reject: (error: unknown) => void }>();
  let seq = 0;
  let alive = true;
  let closing: Promise<void> | null = null;
  const stopped = (why: string) => {
    alive = false;
    const error = new StorageUnavailableError(why);
    for (const entry of pending.values()) entry.reject(error);
    pending.clear();
  };
  const onError = (error: Error) => stopped(`The writer thread failed: ${error.message}`);
  const onExit = () => stopped('The writer thread stopped');
  const onMessage = (message: FromWriter) => {
    if (message.type === 'done') {
      if (message.firstOfTransaction) options.onCommit?.(message.transactionSize);
      pending.get(message.seq)?.resolve(message.outcomes as never);
      pending.delete(message.seq);
    } else if (message.type === 'pragma') {
      const entry = pending.get(message.seq);
      pending.delete(message.seq);
      if (message.ok) entry?.resolve(message.value as never);
      else entry?.reject(deserializeError(message.error!));
    }
  };
  worker.on('error', onError);
  worker.on('exit', onExit);
  worker.on('message', onMessage);
  const call = <T>(message: ToWriter & { seq: number }): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      pending.set(message.seq, { resolve: resolve, reject });
      worker.postMessage(message);
    });
  return {
    run: (commands) =>
      alive ? call<CommandOutcome[]>({ type: 'batch', seq: ++seq, commands }) : Promise.reject(new StorageUnavailableError('The writer thread is not running')),
    pragma: (text) => call<unknown>({ type: 'pragma', seq: ++seq, text }),
    pragmas,
    alive: () => alive,
    close: () =>
      (closing ??= (async () => {
        if (!alive) return;
        const closed = nextMessage(worker, 'closed');
        worker.postMessage({ type: 'close' } satisfies ToWriter);
        await closed.catch(() => undefined);
        alive = false;
        releaseThread('writer', worker);
      })()),
  };
}

interface QueuedRead {
  op: SqliteReadOp;
  args: unknown[];
  enqueuedAt: number;
  waitsForever: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * The readers and the queue in front of them. A reader takes one query at a time; queries wait
 * in arrival order. One that has waited READ_QUEUE_MAX_WAIT_MS is refused with StorageBusyError
 * (503 and Retry-After) instead of adding to a backlog nobody is served from.
 */
async function openReaderPool(path: string, workers: Worker[], options: SqliteStoreOptions): Promise<ReaderTransport> {
  const maxWaitMs = options.readQueueMaxWaitMs ?? READ_QUEUE_MAX_WAIT_MS;
  const maxLength = options.readQueueMaxLength ?? READ_QUEUE_MAX_LENGTH;
  let pragmas: Record<string, unknown>[];
  try {
    pragmas = await Promise.all(
      workers.map(async (worker) => {
        const opened = nextMessage<Extract<FromReader, { type: 'opened' }>>(worker, 'opened');
        worker.postMessage({ type: 'open', path, reads: options.reads ?? {} } satisfies ToReader);
        return (await opened).pragmas;
      }),
    );
  } catch (error) {
    for (const worker of workers) releaseThread('reader', worker);
    throw error;
  }
  const queue: QueuedRead[] = [];
  const idle: Worker[] = [...workers];
  const current = new Map<Worker, QueuedRead>();
  let nextId = 0;
  let sweeper: NodeJS.Timeout | undefined;

  const refuse = (entry: QueuedRead) => entry.reject(new StorageBusyError(READ_RETRY_AFTER_SEC));
  const expired = (entry: QueuedRead, now: number) => !entry.waitsForever && now - entry.enqueuedAt > maxWaitMs;

  function dispatch(): void {
    const now = performance.now();
    while (idle.length > 0 && queue.length > 0) {
      const entry = queue.shift()!;
      if (expired(entry, now)) {
        refuse(entry);
        continue;
      }
      const worker = idle.pop()!;
      current.set(worker, entry);
      worker.postMessage({ type: 'read', id: ++nextId, op: entry.op, args: entry.args });
    }
    if (queue.length > 0 && !sweeper) {
      // Refuse reads that waited too long even while every reader is still busy.
      sweeper = setInterval(() => {
        const t = performance.now();
        for (let i = queue.length - 1; i >= 0; i--) if (expired(queue[i]!, t)) refuse(queue.splice(i, 1)[0]!);
        if (queue.length === 0) {
          clearInterval(sweeper);
          sweeper = undefined;
        }
      }, Math.max(10, maxWaitMs / 4));
      sweeper.unref();
    }
  }

  for (const worker of workers) {
    worker.on('message', (message: FromReader) => {
      if (message.type !== 'result') return;
      const entry = current.get(worker);
      current.delete(worker);
      idle.push(worker);
      if (entry) {
        if (message.ok) entry.resolve(message.value);
        else entry.reject(deserializeError(message.error));
      }
      dispatch();
    });
    worker.on('error', (error) => {
      const entry = current.get(worker);
      current.delete(worker);
      entry?.reject(new StorageUnavailableError(`A reader thread failed: ${error.message}`));
    });
  }

  return {
    run(op, args, runOptions) {
      return new Promise((resolve, reject) => {
        const entry: QueuedRead = { op, args, enqueuedAt: performance.now(), waitsForever: runOptions?.waitsForever ?? false, resolve: resolve as never, reject };
        if (queue.length >= maxLength && !entry.waitsForever) return refuse(entry);
        queue.push(entry);
        dispatch();
      });
    },
    pragmas,
    async close() {
      if (sweeper) clearInterval(sweeper);
      for (const entry of queue.splice(0)) entry.reject(new StorageUnavailableError('The store is closed'));
      // A reader still answering finishes first: its 'closed' comes after its result.
      await Promise.all(
        workers.map(async (worker) => {
          const closed = nextMessage(worker, 'closed');
          worker.postMessage({ type: 'close' } satisfies ToReader);
          await closed.catch(() => undefined);
          releaseThread('reader', worker);
        }),
      );
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Inline: the same writer and reads on the caller's thread (the CLI)

function inlineWriter(path: string, options: SqliteStoreOptions): WriterTransport {
  const writer = createSqliteWriter(path, { busyTimeoutMs: options.busyTimeoutMs });
  let chain: Promise<unknown> = Promise.resolve();
  let open = true;
  return {
    run(commands) {
      const next = chain.then(async () => {
        const outcomes = await writer.runBatch(commands);
        options.onCommit?.(commands.length);
        return outcomes;
      });
      chain = next.catch(() => undefined);
      return next;
    },
    async pragma(text) {
      try {
        return writer.pragma(text);
      } catch (error) {
        throw deserializeError(serializeError(error));
      }
    },
    pragmas: writer.pragmas(),
    alive: () => open,
    async close() {
      await chain;
      open = false;
      writer.close();
    },
  };
}

function inlineReader(path: string, options: SqliteReadOptions): ReaderTransport {
  const sqlite = openConnection(path, 'reader');
  const reads = createSqliteReads(sqlite, options);
  return {
    async run(op, args) {
      try {
        return (reads[op] as (...a: unknown[]) => never)(...args);
      } catch (error) {
        throw deserializeError(serializeError(error));
      }
    },
    pragmas: [readPragmas(sqlite)],
    async close() {
      if (sqlite.open) sqlite.close();
    },
  };
}
