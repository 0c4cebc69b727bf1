import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { openConnection } from './connection.ts';

/** Tables whose rows a backup report counts: what the registry holds. */
const COUNTED_TABLES = ['deliveries', 'installations', 'outbox_jobs', 'token_handouts'] as const;
/** Pages per backup step: every page in one step (see below). */
const ALL_PAGES = 0x7fffffff;

export interface BackupReport {
  destination: string;
  bytes: number;
  /** PRAGMA integrity_check of the copy: 'ok'. */
  integrity: string;
  /** Rows in the copy, per table. */
  rows: Record<(typeof COUNTED_TABLES)[number], number>;
  /** Every delivery committed before the backup began (`count`, up to id `maxId`) is in the copy. */
  deliveriesBeforeBackup: { count: number; maxId: number };
  /** Migrations applied in the copy (the same as in the source). */
  migrations: number;
  durationMs: number;
}

export class BackupError extends Error {
  override name = 'BackupError';
}

/**
 * SQLite's online backup API (better-sqlite3's db.backup()) from a connection of its own, safe
 * while the server runs: in WAL mode the copy reads a snapshot and never blocks the writer. The
 * whole file is copied in one step, so the copy is one consistent snapshot; copied in several,
 * each commit by the server in between would restart the backup, which under steady webhooks
 * might never finish. The WAL cannot be checkpointed past that snapshot until the step ends.
 *
 * The copy is created 0600 (it holds raw JWTs and the token audit), switched to a rollback
 * journal so it is one self-contained file, then verified: it opens, `PRAGMA integrity_check`
 * says ok, and it holds every delivery the source had committed before the backup began.
 * A copy that fails verification is deleted.
 */
export async function backupSqlite(sourcePath: string, destinationPath: string): Promise<BackupReport> {
  const started = performance.now();
  const destination = resolve(destinationPath);
  if (!existsSync(sourcePath)) throw new BackupError(`no database at ${sourcePath} (DATABASE_URL)`);
  if (resolve(sourcePath) === destination) throw new BackupError('the backup file must not be the database itself');
  if (!existsSync(dirname(destination))) throw new BackupError(`the folder ${dirname(destination)} does not exist`);
  try {
    // Exclusive: never overwrites a file, not even one that appears meanwhile.
    closeSync(openSync(destination, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new BackupError(`${destination} already exists: choose a new file name (a backup never overwrites)`);
    throw err;
  }
  let verified = false;
  try {
    const source = openConnection(sourcePath, 'reader');
    let before: { count: number; maxId: number };
    let migrations: number;
    try {
      before = source.prepare('SELECT count(*) AS count, coalesce(max(id), 0) AS maxId FROM deliveries').get() as {
        count: number;
        maxId: number;
      };
      migrations = countMigrations(source);
      await source.backup(destination, { progress: () => ALL_PAGES });
    } finally {
      source.close();
    }
    const copy = new Database(destination, { fileMustExist: true });
    try {
      copy.pragma('journal_mode = DELETE');
      const integrity = (copy.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
      if (integrity !== 'ok') throw new BackupError(`the copy failed PRAGMA integrity_check: ${integrity.slice(0, 500)}`);
      const kept = copy.prepare('SELECT count(*) FROM deliveries WHERE id <= ?').pluck().get(before.maxId) as number;
      if (kept !== before.count) {
        throw new BackupError(`the copy holds ${kept} of the ${before.count} deliveries committed before the backup began`);
      }
      const copiedMigrations = countMigrations(copy);
      if (copiedMigrations !== migrations)
        throw new BackupError(`the copy has ${copiedMigrations} migrations applied, the database ${migrations}`);
      const rows = Object.fromEntries(
        COUNTED_TABLES.map((table) => [table, copy.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number]),
      ) as BackupReport['rows'];
      verified = true;
      return {
        destination,
        bytes: statSync(destination).size,
        integrity,
        rows,
        deliveriesBeforeBackup: before,
        migrations,
        durationMs: performance.now() - started,
      };
    } finally {
      copy.close();
    }
  } finally {
    if (!verified) rmSync(destination, { force: true });
  }
}

function countMigrations(db: Database.Database): number {
  return db.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get() as number;
}
