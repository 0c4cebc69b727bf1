import type { Worker } from 'node:worker_threads';
import { StorageBusyError, StorageUnavailableError } from '../store.ts';
import { openConnection, readPragmas } from './connection.ts';
import { deserializeError, serializeError } from './errors.ts';
import { createSqliteReads, type SqliteReadOp, type SqliteReadOptions, type SqliteReads } from './reads/index.ts';
import { nextMessage } from './threads/next-message.ts';
import type { FromReader, ToReader } from './threads/protocol.ts';
import { releaseThread } from './threads/thread-pool.ts';

/** A read that waited this long for a reader is refused (503, Retry-After): webhooks come first. */
export const READ_QUEUE_MAX_WAIT_MS = 2_000;
/** Reads waiting at most; past this a new read is refused at once. */
export const READ_QUEUE_MAX_LENGTH = 1_000;
/** What the refusal's Retry-After says, in seconds. */
export const READ_RETRY_AFTER_SEC = 1;

/** The main thread's side of the readers: one query in, its answer out. */
export interface ReaderTransport {
  run<Op extends SqliteReadOp>(
    op: Op,
    args: Parameters<SqliteReads[Op]>,
    options?: { waitsForever?: boolean },
  ): Promise<ReturnType<SqliteReads[Op]>>;
  pragmas: Record<string, unknown>[];
  close(): Promise<void>;
}

export interface ReadQueueOptions {
  readQueueMaxWaitMs?: number | undefined;
  readQueueMaxLength?: number | undefined;
  reads?: SqliteReadOptions | undefined;
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
export async function openReaderPool(path: string, workers: Worker[], options: ReadQueueOptions): Promise<ReaderTransport> {
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
      sweeper = setInterval(
        () => {
          const t = performance.now();
          for (let i = queue.length - 1; i >= 0; i--) if (expired(queue[i]!, t)) refuse(queue.splice(i, 1)[0]!);
          if (queue.length === 0) {
            clearInterval(sweeper);
            sweeper = undefined;
          }
        },
        Math.max(10, maxWaitMs / 4),
      );
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
        const entry: QueuedRead = {
          op,
          args,
          enqueuedAt: performance.now(),
          waitsForever: runOptions?.waitsForever ?? false,
          resolve: resolve as never,
          reject,
        };
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

/** The same reads on the caller's thread (the CLI). */
export function inlineReader(path: string, options: SqliteReadOptions): ReaderTransport {
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
