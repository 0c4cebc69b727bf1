import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * How long the writer waits for another process's write lock (the CLI beside a running server,
 * a backup) before the batch fails with SQLITE_BUSY and its webhooks answer 503. It waits on the
 * writer thread, never on the event loop; Wix gives up after 1250 ms anyway.
 */
export const WRITER_BUSY_TIMEOUT_MS = 500;
/** Readers never wait for a lock in WAL mode; this only covers opening while a checkpoint truncates. */
export const READER_BUSY_TIMEOUT_MS = 1_000;

/**
 * The pragmas every connection the registry opens must have, and a test asserts on the
 * connections the server really opens: WAL (readers beside the one writer), synchronous=FULL
 * (a committed transaction survives power loss: what a `200` to Wix promises; group commit makes
 * it one fsync per batch), foreign keys, and a busy timeout.
 */
export const REQUIRED_PRAGMAS = { journal_mode: 'wal', synchronous: 2 /* FULL */, foreign_keys: 1 } as const;

export type ConnectionRole = 'writer' | 'reader';

/**
 * Opens the registry's SQLite file. The writer creates it (and its folder) readable by the owner
 * only: it holds raw webhooks and the token audit. SQLite gives the -wal and -shm files the
 * database file's permissions. Readers are read-write connections with query_only on: a
 * read-only connection could not set up the WAL index when it is the first to open the file.
 */
export function openConnection(path: string, role: ConnectionRole, options: { busyTimeoutMs?: number } = {}): Database.Database {
  const busyTimeoutMs = options.busyTimeoutMs ?? (role === 'writer' ? WRITER_BUSY_TIMEOUT_MS : READER_BUSY_TIMEOUT_MS);
  if (path !== ':memory:' && role === 'writer') prepareFile(path);
  const sqlite = new Database(path, { timeout: busyTimeoutMs, fileMustExist: role === 'reader' && path !== ':memory:' });
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${busyTimeoutMs}`);
  if (role === 'reader') sqlite.pragma('query_only = ON');
  return sqlite;
}

/** The folder 0700 and the file 0600 (created so, or tightened if they exist). */
function prepareFile(path: string): void {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}

/** The pragmas of a connection, as REQUIRED_PRAGMAS names them, plus its busy timeout. */
export function readPragmas(sqlite: Database.Database) {
  return {
    journal_mode: String(sqlite.pragma('journal_mode', { simple: true })).toLowerCase(),
    synchronous: Number(sqlite.pragma('synchronous', { simple: true })),
    foreign_keys: Number(sqlite.pragma('foreign_keys', { simple: true })),
    busy_timeout: Number(sqlite.pragma('busy_timeout', { simple: true })),
    query_only: Number(sqlite.pragma('query_only', { simple: true })),
  };
}
