import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as schema from './schema/index.ts';

export type Db = BetterSQLite3Database<typeof schema>;

export interface DatabaseHandle {
  /** drizzle over the connection: what services query with. */
  db: Db;
  /** The raw connection, for pragmas, checkpoints and closing. */
  sqlite: Database.Database;
  path: string;
  close(): void;
}

/** How long the CLI waits for another process's write lock (e.g. the server's) before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5_000;
/**
 * The server waits far less: better-sqlite3's busy wait blocks the event loop, and Wix gives up
 * after 1250 ms anyway. Past this the webhook answers 503 and Wix resends.
 */
export const SERVER_BUSY_TIMEOUT_MS = 250;

/**
 * Opens (creating if needed) the SQLite file. WAL lets readers (the CLI, the query API) run
 * beside the webhook writer; synchronous=FULL makes every committed transaction survive power
 * loss, which is what a `200` to Wix promises (deliveries are group-committed, so this costs
 * one fsync per batch, not per request).
 */
export function openDatabase(path: string, options: { readonly?: boolean; busyTimeoutMs?: number } = {}): DatabaseHandle {
  const busyTimeoutMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
  if (path !== ':memory:' && !options.readonly) mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path, { readonly: options.readonly ?? false, timeout: busyTimeoutMs });
  if (!options.readonly) sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${busyTimeoutMs}`);
  const db = drizzle(sqlite, { schema });
  return {
    db,
    sqlite,
    path,
    close: () => {
      if (sqlite.open) sqlite.close();
    },
  };
}

/** Accepts a plain path or a `file:` URL (DATABASE_URL). */
export function databasePathFromUrl(url: string): string {
  if (url.startsWith('file://')) return fileURLToPath(url);
  if (url.startsWith('file:')) return url.slice('file:'.length);
  return url;
}
