/**
 * The storage engines the registry under test runs on (`--engine`). An engine hands out the
 * DATABASE_URL of a fresh, empty database for each run and of the seeded "at scale" database,
 * and counts installations after a run (the "lost" check). Sections never touch a database
 * themselves.
 *
 * SQLite: a file per run under the run's temp dir; the seeded file cached under results/.
 * PostgreSQL (issue 9): a `CREATE DATABASE` per run on POSTGRES_ADMIN_URL (dropped after it; the
 * registry migrates it on start), the seeded database (seed-postgres.ts, fed the same rows as
 * SQLite) kept on the server between runs as `wixreg_bench_seed_<key>`, and copies of it made
 * with `CREATE DATABASE … TEMPLATE …`.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  openSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './proc.ts';
import type { EngineName } from './settings.ts';
import { generateInstallations, type SeedSummary } from './seed-data.ts';
import {
  backdatePostgresDeliveries,
  countPostgresInstallations,
  postgresStorage,
  seedPostgres,
  warmPostgres,
  withPostgres,
} from './seed-postgres.ts';
import { backdateSqliteDeliveries, countSqliteInstallations, seedSqlite, sqliteStorage } from './seed-sqlite.ts';

export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

/** One database for one run. */
export interface BenchDatabase {
  /** What the registry gets as DATABASE_URL. */
  url: string;
  /** Installations stored, read after the server stopped. */
  countInstallations(): Promise<number>;
  /** What the stored data weighs (server stopped): the files, and the bytes in use (free space left out). */
  storage(): Promise<{ fileBytes: number; usedBytes: number }>;
  /** Moves every delivery's receive time this far into the past (server stopped). */
  backdateDeliveries(ms: number): Promise<void>;
  drop(): Promise<void>;
}

/** The cached database with `summary.installations` installations (seed-data.ts). */
export interface SeededDatabase {
  /** Read-only use: the queries section runs on it in place. */
  url: string;
  sizeMb: number;
  cached: boolean;
  /** Seconds the seeding took (0 when cached). */
  seconds: number;
  summary: SeedSummary;
  /** Reads the data once so a run meets a warm cache, as a server up for a while does. Seconds. */
  warm(): Promise<number>;
  /** A writable copy for a run that writes (the interference section's probes). */
  copy(label: string): Promise<BenchDatabase>;
}

export interface BenchEngine {
  name: EngineName;
  /** null when the registry runs on this engine; else why not, printed as "not available yet". */
  unavailable: string | null;
  freshDatabase(label: string): Promise<BenchDatabase>;
  seededDatabase(installations: number, log: (line: string) => void): Promise<SeededDatabase>;
}

export async function createEngine(name: EngineName, options: { work: string }): Promise<BenchEngine> {
  return name === 'sqlite' ? createSqliteEngine(options.work) : createPostgresEngine();
}

// ---- SQLite ---------------------------------------------------------------------------------

function sqliteDatabase(path: string, dir: string): BenchDatabase {
  return {
    url: path,
    countInstallations: async () => countSqliteInstallations(path),
    storage: async () => sqliteStorage(path),
    backdateDeliveries: async (ms) => backdateSqliteDeliveries(path, ms),
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Every file under dir, sorted, with its path relative to the repository. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name))
    .sort();
}

/**
 * Keys the cached database: the migrations (the schema), the generator and the seeder. A schema
 * change makes the next run seed anew; stale files are deleted.
 */
function seedKey(installations: number): string {
  const hash = createHash('sha256');
  const inputs = [
    // SQLite's migrations only: a PostgreSQL migration does not make the SQLite file stale.
    ...filesUnder(join(REPO_ROOT, 'migrations', 'sqlite')),
    join(REPO_ROOT, 'bench/lib/seed-data.ts'),
    join(REPO_ROOT, 'bench/lib/seed-sqlite.ts'),
  ];
  for (const file of inputs) hash.update(relative(REPO_ROOT, file)).update(readFileSync(file));
  hash.update(`installations:${installations}`);
  return hash.digest('hex').slice(0, 16);
}

async function readWholeFile(path: string): Promise<number> {
  const started = performance.now();
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(16 << 20);
    for (let position = 0; ;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
    }
  } finally {
    await file.close();
  }
  return (performance.now() - started) / 1000;
}

function createSqliteEngine(work: string): BenchEngine {
  const freshDir = (label: string) => mkdtempSync(join(work, `${label}-`));
  return {
    name: 'sqlite',
    unavailable: null,
    async freshDatabase(label) {
      const dir = freshDir(label);
      return sqliteDatabase(join(dir, `${label}.db`), dir);
    },
    async seededDatabase(installations, log) {
      mkdirSync(RESULTS_DIR, { recursive: true });
      const key = seedKey(installations);
      const path = join(RESULTS_DIR, `queries-${key}.db`);
      const metaPath = join(RESULTS_DIR, `queries-${key}.json`);
      const seeded = (cached: boolean, seconds: number, summary: SeedSummary): SeededDatabase => ({
        url: path,
        sizeMb: statSync(path).size / 1_048_576,
        cached,
        seconds,
        summary,
        warm: () => readWholeFile(path),
        async copy(label) {
          const dir = freshDir(label);
          const target = join(dir, `${label}.db`);
          copyFileSync(path, target);
          // On disk before the registry starts: else its first fsync would wait for gigabytes
          // of the copy to be written back, and the run would measure the copy.
          const fd = openSync(target, 'r+');
          try {
            fsyncSync(fd);
          } finally {
            closeSync(fd);
          }
          return sqliteDatabase(target, dir);
        },
      });
      if (existsSync(path) && existsSync(metaPath)) {
        return seeded(true, 0, JSON.parse(readFileSync(metaPath, 'utf8')) as SeedSummary);
      }
      // Other keys are stale (an older schema or seeder): they are large, remove them.
      for (const file of readdirSync(RESULTS_DIR)) {
        if (/^queries-[0-9a-f]+\.(db|json)(-wal|-shm|\.partial.*)?$/.test(file)) rmSync(join(RESULTS_DIR, file), { force: true });
      }
      const partial = `${path}.partial`;
      const started = performance.now();
      log(`seeding ${installations.toLocaleString('en-US')} installations into ${partial} (cached for next runs)…`);
      const { rows, summary } = generateInstallations(installations);
      await seedSqlite(partial, rows, (n) => {
        if (n % 200_000 === 0) log(`  ${n.toLocaleString('en-US')} installations…`);
      });
      renameSync(partial, path);
      writeFileSync(metaPath, `${JSON.stringify(summary)}\n`);
      const seconds = (performance.now() - started) / 1000;
      log(`  seeded in ${seconds.toFixed(0)} s`);
      return seeded(false, seconds, summary);
    },
  };
}

// ---- PostgreSQL (issue 9) -------------------------------------------------------------------

/** The server the bench makes its databases on: BENCH_POSTGRES_URL, else TEST_POSTGRES_URL, else the local one. */
export const POSTGRES_ADMIN_URL =
  process.env.BENCH_POSTGRES_URL || process.env.TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

const databaseUrl = (name: string) => {
  const u = new URL(POSTGRES_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
};

/** Names of this run's throw-away databases carry the orchestrator's pid: a later run drops those of a run that died. */
const RUN_PREFIX = 'wixreg_bench_run_';
const SEED_PREFIX = 'wixreg_bench_seed_';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function postgresDatabase(name: string): BenchDatabase {
  const url = databaseUrl(name);
  return {
    url,
    countInstallations: () => countPostgresInstallations(url),
    storage: () => postgresStorage(url),
    backdateDeliveries: (ms) => backdatePostgresDeliveries(url, ms),
    drop: async () => {
      await withPostgres(POSTGRES_ADMIN_URL, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** Keys the cached seeded database as seedKey() does for SQLite: PostgreSQL's migrations, the generator, this seeder. */
function postgresSeedKey(installations: number): string {
  const hash = createHash('sha256');
  const inputs = [
    ...filesUnder(join(REPO_ROOT, 'migrations', 'postgres')),
    join(REPO_ROOT, 'bench/lib/seed-data.ts'),
    join(REPO_ROOT, 'bench/lib/seed-postgres.ts'),
  ];
  for (const file of inputs) hash.update(relative(REPO_ROOT, file)).update(readFileSync(file));
  hash.update(`installations:${installations}`);
  return hash.digest('hex').slice(0, 16);
}

async function createPostgresEngine(): Promise<BenchEngine> {
  let unavailable: string | null = null;
  try {
    // Databases a run that died left behind (its pid is gone).
    await withPostgres(POSTGRES_ADMIN_URL, async (admin) => {
      const names = (
        await admin.query<{ name: string }>(`SELECT datname AS name FROM pg_database WHERE datname LIKE '${RUN_PREFIX}%'`)
      ).rows.map((r) => r.name);
      for (const name of names) {
        const pid = Number(name.slice(RUN_PREFIX.length).split('_')[0]);
        if (Number.isInteger(pid) && !isAlive(pid)) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
    });
  } catch (err) {
    unavailable = `PostgreSQL at ${redactUrl(POSTGRES_ADMIN_URL)} does not answer (${(err as Error).message}); start it or set BENCH_POSTGRES_URL`;
  }
  let counter = 0;
  const create = async (label: string, template?: string) => {
    const name = `${RUN_PREFIX}${process.pid}_${label.replace(/[^a-z0-9]/gi, '').toLowerCase()}_${++counter}_${randomBytes(3).toString('hex')}`;
    await withPostgres(POSTGRES_ADMIN_URL, (admin) => admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`));
    return postgresDatabase(name);
  };
  return {
    name: 'postgres',
    unavailable,
    freshDatabase: (label) => create(label),
    async seededDatabase(installations, log) {
      mkdirSync(RESULTS_DIR, { recursive: true });
      const key = postgresSeedKey(installations);
      const name = `${SEED_PREFIX}${key}`;
      const metaPath = join(RESULTS_DIR, `queries-postgres-${key}.json`);
      const url = databaseUrl(name);
      const exists = async (db: string) =>
        withPostgres(
          POSTGRES_ADMIN_URL,
          async (admin) => (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db])).rowCount === 1,
        );
      const seeded = async (cached: boolean, seconds: number, summary: SeedSummary): Promise<SeededDatabase> => ({
        url,
        sizeMb:
          (await withPostgres(
            url,
            async (db) => (await db.query<{ n: number }>('SELECT pg_database_size(current_database()) AS n')).rows[0]!.n,
          )) / 1_048_576,
        cached,
        seconds,
        summary,
        warm: () => warmPostgres(url),
        // CREATE DATABASE … TEMPLATE copies the files: nothing may be connected to the seeded one meanwhile.
        copy: (label) => create(label, name),
      });
      if (existsSync(metaPath) && (await exists(name))) return seeded(true, 0, JSON.parse(readFileSync(metaPath, 'utf8')) as SeedSummary);
      // Other keys are stale (an older schema or seeder): they are large, remove them.
      await withPostgres(POSTGRES_ADMIN_URL, async (admin) => {
        const stale = (await admin.query<{ name: string }>(`SELECT datname AS name FROM pg_database WHERE datname LIKE '${SEED_PREFIX}%'`))
          .rows;
        for (const db of stale) await admin.query(`DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`);
      });
      for (const file of readdirSync(RESULTS_DIR))
        if (/^queries-postgres-[0-9a-f]+\.json$/.test(file)) rmSync(join(RESULTS_DIR, file), { force: true });
      const partial = `${name}_partial`;
      const started = performance.now();
      log(`seeding ${installations.toLocaleString('en-US')} installations into PostgreSQL database ${partial} (cached for next runs)…`);
      await withPostgres(POSTGRES_ADMIN_URL, (admin) => admin.query(`CREATE DATABASE ${partial}`));
      const { rows, summary } = generateInstallations(installations);
      await seedPostgres(databaseUrl(partial), rows, (n) => {
        if (n % 200_000 === 0) log(`  ${n.toLocaleString('en-US')} installations…`);
      });
      await withPostgres(POSTGRES_ADMIN_URL, (admin) => admin.query(`ALTER DATABASE ${partial} RENAME TO ${name}`));
      writeFileSync(metaPath, `${JSON.stringify(summary)}\n`);
      const seconds = (performance.now() - started) / 1000;
      log(`  seeded in ${seconds.toFixed(0)} s`);
      return seeded(false, seconds, summary);
    },
  };
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unparsable URL)';
  }
}
