/**
 * SQLite failures that mean "the database cannot take the write right now" (locked by another
 * process, read-only, disk full, I/O error). The webhook answers 503 for these so Wix resends.
 */
const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|READONLY|FULL|IOERR|CANTOPEN|PROTOCOL|NOTADB|CORRUPT)/;

export function isDatabaseUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.test(code)) return true;
  // better-sqlite3 throws TypeError('The database connection is not open') after close().
  return err instanceof TypeError && /database connection is not open/.test(err.message);
}
