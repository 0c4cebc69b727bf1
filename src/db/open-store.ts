import { openSqliteStore, type SqliteStoreOptions } from './sqlite/store.ts';
import type { RegistryStore } from './store.ts';

export interface OpenStoreOptions {
  /** For the SQLite engine: database threads (the server) or the caller's thread (the CLI). */
  threads?: boolean;
  sqlite?: Omit<SqliteStoreOptions, 'threads'>;
}

/**
 * Opens the store DATABASE_URL names, migrated and ready: a SQLite file path (or `file:` URL).
 * config.ts has already refused anything else.
 */
export async function openStore(databasePath: string, options: OpenStoreOptions = {}): Promise<RegistryStore> {
  return openSqliteStore(databasePath, {
    ...options.sqlite,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
  });
}
