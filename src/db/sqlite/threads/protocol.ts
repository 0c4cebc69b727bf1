import type { WriteCommand } from '../../commands.ts';
import type { SerializedError } from '../errors.ts';
import type { SqliteReadOp, SqliteReadOptions, SqliteReads } from '../reads/index.ts';
import type { CommandOutcome } from '../writer.ts';

/**
 * Messages between the main thread and the database threads. A thread is loaded once per process
 * and serves one database file at a time: `open` binds it to a file, `close` releases it (see
 * thread-pool.ts).
 */

export type ToWriter =
  | { type: 'open'; path: string; migrationsDir: string; busyTimeoutMs?: number | undefined }
  | { type: 'batch'; seq: number; commands: WriteCommand[] }
  | { type: 'pragma'; seq: number; text: string }
  | { type: 'close' };

export type FromWriter =
  | { type: 'loaded' }
  | { type: 'opened'; pragmas: Record<string, unknown> }
  | { type: 'failed'; error: SerializedError }
  | {
      type: 'done';
      seq: number;
      outcomes: CommandOutcome[];
      transactionSize: number;
      firstOfTransaction: boolean;
      appendedPosition: number;
    }
  | { type: 'pragma'; seq: number; ok: boolean; value?: unknown; error?: SerializedError }
  | { type: 'closed' };

export interface ReadRequest<Op extends SqliteReadOp = SqliteReadOp> {
  type: 'read';
  id: number;
  op: Op;
  args: Parameters<SqliteReads[Op]>;
}

export type ToReader = { type: 'open'; path: string; reads: SqliteReadOptions } | ReadRequest | { type: 'close' };

export type FromReader =
  | { type: 'loaded' }
  | { type: 'opened'; pragmas: Record<string, unknown> }
  | { type: 'failed'; error: SerializedError }
  | { type: 'closed' }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: SerializedError };

export interface ThreadData {
  /** The module to load, when the thread starts on the tsx bootstrap rather than a bundle (thread-code.ts). */
  entry?: string;
  /** Added to the thread's nice value (readers: they give way to the event loop and the writer). */
  niceness: number;
}
