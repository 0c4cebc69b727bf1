import type { Worker } from 'node:worker_threads';
import type { WriteCommand } from '../commands.ts';
import { StorageUnavailableError } from '../store.ts';
import { deserializeError, serializeError } from './errors.ts';
import { SQLITE_MIGRATIONS_DIR } from './migrate.ts';
import { nextMessage } from './threads/next-message.ts';
import type { FromWriter, ToWriter } from './threads/protocol.ts';
import { acquireThread, releaseThread } from './threads/thread-pool.ts';
import { createSqliteWriter, type BatchResult } from './writer.ts';

/**
 * The main thread's side of the one writer: batches of commands in, one outcome per command out.
 * On the writer thread (the server), or on the caller's own thread (the CLI).
 */
export interface WriterTransport {
  /** One outcome per command, and the highest change position the batch appended (0: none). */
  run(commands: WriteCommand[]): Promise<BatchResult>;
  pragma(text: string): Promise<unknown>;
  pragmas: Record<string, unknown>;
  alive(): boolean;
  close(): Promise<void>;
}

export type { Worker };

export async function startWriterThread(
  path: string,
  options: { busyTimeoutMs?: number | undefined; onCommit: (commands: number) => void },
): Promise<WriterTransport> {
  const worker = await acquireThread('writer');
  const opened = nextMessage<Extract<FromWriter, { type: 'opened' }>>(worker, 'opened');
  worker.postMessage({ type: 'open', path, migrationsDir: SQLITE_MIGRATIONS_DIR, busyTimeoutMs: options.busyTimeoutMs } satisfies ToWriter);
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
      if (message.firstOfTransaction) options.onCommit(message.transactionSize);
      pending.get(message.seq)?.resolve({ outcomes: message.outcomes, appendedPosition: message.appendedPosition } as never);
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
      alive
        ? call<BatchResult>({ type: 'batch', seq: ++seq, commands })
        : Promise.reject(new StorageUnavailableError('The writer thread is not running')),
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

/** The same writer on the caller's thread (the CLI): one batch at a time. */
export function inlineWriter(
  path: string,
  options: { busyTimeoutMs?: number | undefined; onCommit: (commands: number) => void },
): WriterTransport {
  const writer = createSqliteWriter(path, { busyTimeoutMs: options.busyTimeoutMs });
  let chain: Promise<unknown> = Promise.resolve();
  let open = true;
  return {
    run(commands) {
      const next = chain.then(async () => {
        const result = await writer.runBatch(commands);
        options.onCommit(commands.length);
        return result;
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
