import { systemClock } from '../clock.ts';
import { loadConfig, type Config } from '../config.ts';
import { openStore } from '../db/open-store.ts';
import type { RegistryStore } from '../db/store.ts';
import { createInstallationQueries } from '../installations/queries.ts';

/**
 * How long the CLI waits for the running server's write lock: longer than the server's writer
 * does, since nobody is waiting on the other end (the server commits in milliseconds).
 */
export const CLI_BUSY_TIMEOUT_MS = 5_000;

/**
 * Runs a CLI command with the store DATABASE_URL names (migrated first), and always closes it.
 * The CLI works on its own thread: it has no event loop to keep free, so no database threads
 * (SQLite); on PostgreSQL it is one more client of the database, like a replica.
 */
export async function withStore<T>(run: (context: { config: Config; store: RegistryStore }) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const store = await openStore(config.database, {
    threads: false,
    sqlite: { busyTimeoutMs: CLI_BUSY_TIMEOUT_MS },
    // A command has no long-poll to wake, and needs few connections.
    postgres: { readPoolSize: Math.min(config.databasePoolSize, 4), listen: false },
  });
  try {
    return await run({ config, store });
  } finally {
    await store.close();
  }
}

/** The installation queries over a store, as the HTTP API runs them. */
export const queriesOver = (store: RegistryStore) => createInstallationQueries(store, { clock: systemClock });

/** Prints rows as an aligned text table. */
export function printTable(rows: Record<string, string>[], columns: string[]): void {
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const widths = columns.map((col) => Math.max(col.length, ...rows.map((r) => (r[col] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  console.log(line(columns.map((c) => c.toUpperCase())));
  for (const row of rows) console.log(line(columns.map((c) => row[c] ?? '')));
}

export const shortTime = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 19) : '-');
