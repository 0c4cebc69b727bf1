import { StorageUnavailableError } from '../store.ts';

/**
 * SQLite failures that mean "the database cannot take the work right now" (locked by another
 * process, read-only, disk full, I/O error): nothing was written, and the webhook answers 503 so
 * Wix resends.
 */
const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|READONLY|FULL|IOERR|CANTOPEN|PROTOCOL|NOTADB|CORRUPT)/;

export function isSqliteUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.test(code)) return true;
  // better-sqlite3 throws TypeError('The database connection is not open') after close().
  return err instanceof TypeError && /database connection is not open/.test(err.message);
}

/** An error as it crosses from a database thread to the main thread (structured clone keeps no class). */
export interface SerializedError {
  unavailable: boolean;
  name: string;
  message: string;
  code?: string | undefined;
  stack?: string | undefined;
}

export function serializeError(err: unknown): SerializedError {
  const e = err as { name?: unknown; message?: unknown; code?: unknown; stack?: unknown } | null;
  return {
    unavailable: isSqliteUnavailable(err),
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(err),
    code: typeof e?.code === 'string' ? e.code : undefined,
    stack: typeof e?.stack === 'string' ? e.stack : undefined,
  };
}

/** The main thread's error for a serialized one: StorageUnavailableError when the database could not take the work. */
export function deserializeError(s: SerializedError): Error {
  if (s.unavailable) return new StorageUnavailableError(s.message, s.code);
  const err = new Error(s.message);
  err.name = s.name;
  if (s.stack) err.stack = s.stack;
  if (s.code) (err as Error & { code?: string }).code = s.code;
  return err;
}
