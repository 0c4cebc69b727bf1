import { Worker } from 'node:worker_threads';
import type { ThreadData } from './protocol.ts';
import { threadCode, type ThreadKind } from './thread-code.ts';

/**
 * Database threads are loaded once per process and kept: loading one (a fresh V8 isolate, the
 * TypeScript loader, the SQLite driver) costs far more than opening a file, and a process that
 * opens several stores in turn (a restart in place, the tests) reuses them. An idle thread does
 * not keep the process alive.
 */

export type { ThreadKind };
/** Reader threads run at this much lower priority (nice) than the event loop and the writer. */
export const READER_NICENESS = 10;

const idle: Record<ThreadKind, Worker[]> = { writer: [], reader: [] };

/** A loaded thread of that kind, for the caller alone until it is released. */
export async function acquireThread(kind: ThreadKind): Promise<Worker> {
  const reused = idle[kind].pop();
  if (reused) {
    reused.ref();
    return reused;
  }
  const code = await threadCode(kind);
  const worker = new Worker(code.file, {
    workerData: { ...code.data, niceness: kind === 'reader' ? READER_NICENESS : 0 } satisfies ThreadData,
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    worker.once('error', onError);
    worker.once('message', (message: { type: string }) => {
      worker.off('error', onError);
      if (message.type === 'loaded') resolve();
      else reject(new Error(`unexpected first message from a ${kind} thread: ${message.type}`));
    });
  });
  return worker;
}

/** Gives a thread back, its database closed, for the next store of this process. */
export function releaseThread(kind: ThreadKind, worker: Worker): void {
  worker.removeAllListeners('message');
  worker.removeAllListeners('error');
  worker.removeAllListeners('exit');
  // A thread that dies while idle is simply not reused.
  worker.once('exit', () => {
    const at = idle[kind].indexOf(worker);
    if (at >= 0) idle[kind].splice(at, 1);
  });
  worker.unref();
  idle[kind].push(worker);
}
