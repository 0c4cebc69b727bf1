import { StorageBusyError, StorageUnavailableError } from '../store.ts';

/** What a refused read's Retry-After says, in seconds (as SQLite's read queue: src/db/sqlite/reader-pool.ts). */
export const READ_RETRY_AFTER_SEC = 1;

/**
 * SQLSTATEs that mean "the database cannot take the work right now": the server is shutting down
 * or starting (57P01-57P03), out of connections, disk or memory (53xxx), or the connection itself
 * failed (class 08). The transaction rolled back with its connection, so nothing was written, and
 * a webhook answers 503 so Wix resends.
 */
const UNAVAILABLE_SQLSTATES = /^(57P0[123]|53[0-9A-Z]{3}|08[0-9A-Z]{3})$/;
/** Socket errors from node-postgres when the server is gone or unreachable. */
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** node-postgres says these without a code. */
const UNAVAILABLE_MESSAGES = [
  /Connection terminated/i,
  /Client has encountered a connection error and is not queryable/i,
  /Client was closed and is not queryable/i,
  /Cannot use a pool after calling end on the pool/i,
  /the database system is (shutting down|starting up|in recovery mode)/i,
];
/** pg-pool's message when a checkout waited connectionTimeoutMillis for a busy pool's connection. */
const POOL_WAIT_TIMEOUT = 'timeout exceeded when trying to connect';

/** Whether a pg error means the database could not take the work (StorageUnavailableError). */
export function isPostgresUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (UNAVAILABLE_SQLSTATES.test(code) || UNAVAILABLE_SOCKET_CODES.has(code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message));
}

/** Deadlock and serialization failure: the whole transaction may simply be run again. */
export function isRetryableConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

/**
 * The error callers see for a pg error: StorageUnavailableError (503) when the database is down
 * or full, StorageBusyError (503 + Retry-After) when a read waited too long for a connection,
 * anything else as it was (a bug: 500, logged). Messages of the pg errors mapped here name no
 * credential (node-postgres never puts the connection string in them).
 */
export function toStorageError(err: unknown): unknown {
  if (err instanceof StorageUnavailableError || err instanceof StorageBusyError) return err;
  if (err instanceof Error && err.message === POOL_WAIT_TIMEOUT) return new StorageBusyError(READ_RETRY_AFTER_SEC);
  if (isPostgresUnavailable(err)) {
    const e = err as { message?: unknown; code?: unknown };
    return new StorageUnavailableError(`PostgreSQL is unavailable: ${String(e.message)}`, typeof e.code === 'string' ? e.code : undefined);
  }
  return err;
}
