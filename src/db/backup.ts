import type { DatabaseLocation } from './database-url.ts';
import { BackupError, backupSqlite, type BackupReport } from './sqlite/backup.ts';

export { BackupError, type BackupReport };

/** What `wix-registry backup` says on PostgreSQL, whose own tools do this better. */
export const PG_DUMP_ADVICE =
  'wix-registry backup copies a SQLite database. On PostgreSQL use pg_dump: pg_dump --format=custom --file=registry.dump "$DATABASE_URL" ' +
  '(restore with pg_restore --clean --if-exists --dbname="$DATABASE_URL" registry.dump); see the README, "Backup and restore".';

/**
 * A verified copy of the database DATABASE_URL names, taken while the server runs (see
 * backupSqlite). PostgreSQL is refused with the pg_dump command to use instead.
 */
export async function backupDatabase(location: DatabaseLocation, destination: string): Promise<BackupReport> {
  if (location.engine !== 'sqlite') throw new BackupError(PG_DUMP_ADVICE);
  return backupSqlite(location.path, destination);
}
