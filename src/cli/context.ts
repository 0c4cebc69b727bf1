import { loadConfig, type Config } from '../config.ts';
import { openDatabase, type DatabaseHandle } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';

/** What every CLI command that reads the database needs: the config and a migrated handle. */
export function openCliDatabase(): { config: Config; database: DatabaseHandle } {
  const config = loadConfig();
  const database = openDatabase(config.databasePath);
  migrateDatabase(database);
  return { config, database };
}

/** Prints rows as an aligned text table. */
export function printTable(rows: Record<string, string>[], columns: string[]): void {
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const widths = columns.map((col) => Math.max(col.length, ...rows.map((r) => (r[col] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(line(columns.map((c) => c.toUpperCase())));
  for (const row of rows) console.log(line(columns.map((c) => row[c] ?? '')));
}

export const shortTime = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 19) : '-');
