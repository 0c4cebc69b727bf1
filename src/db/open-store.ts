import { parseDatabaseUrl, type DatabaseLocation } from './database-url.ts';
import { migratePostgres } from './postgres/migrate.ts';
import { openPostgresStore, type PostgresStoreOptions } from './postgres/store.ts';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite/store.ts';
import type { RegistryStore } from './store.ts';

export interface OpenStoreOptions {
  /** For the SQLite engine: database threads (the server) or the caller's thread (the CLI). */
  threads?: boolean;
  sqlite?: Omit<SqliteStoreOptions, 'threads'>;
  postgres?: PostgresStoreOptions;
}

/**
 * Opens the store DATABASE_URL names, migrated and ready: PostgreSQL for a postgres:// URL, SQLite
 * for a file path (or `file:` URL). A string is read as DATABASE_URL is; config.ts has already
 * refused anything else.
 */
export async function openStore(database: DatabaseLocation | string, options: OpenStoreOptions = {}): Promise<RegistryStore> {
  const location = typeof database === 'string' ? parseDatabaseUrl(database) : database;
  if (location.engine === 'postgres') return openPostgresStore(location.url, options.postgres);
  return openSqliteStore(location.path, {
    ...options.sqlite,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
  });
}

/**
 * Applies pending migrations to the database DATABASE_URL names (`wix-registry migrate`). On
 * PostgreSQL under the migration lock, as the replicas do on start, so it is safe beside running
 * ones; on SQLite by opening the store, which migrates.
 */
export async function migrateDatabase(location: DatabaseLocation, options: OpenStoreOptions = {}): Promise<void> {
  if (location.engine === 'postgres') return migratePostgres(location.url, options.postgres?.migrationsFolder);
  const store = await openStore(location, { ...options, threads: false });
  await store.close();
}
