/**
 * The storage engine the registry under test runs on (`--engine`). An engine hands out the
 * DATABASE_URL of a fresh, empty database for each run and of the seeded "at scale" database,
 * and counts installations after a run (the "lost" check). Sections never touch a database
 * file themselves.
 *
 * Adding an engine is: a fresh database per run (for PostgreSQL, CREATE DATABASE … and its
 * postgres:// URL; the registry migrates it on start), a seeder beside seed-sqlite.ts taking
 * the same generated rows (seed-data.ts), a copy for runs that write (CREATE DATABASE …
 * TEMPLATE …), and for the retention section its weight (pg_database_size and the live bytes
 * pgstattuple reports) and an UPDATE of deliveries.received_at.
 */
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './proc.ts';
import type { EngineName } from './settings.ts';
import { generateInstallations, type SeedSummary } from './seed-data.ts';
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

export function createEngine(name: EngineName, options: { work: string }): BenchEngine {
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
  const inputs = [...filesUnder(join(REPO_ROOT, 'migrations')), join(REPO_ROOT, 'bench/lib/seed-data.ts'), join(REPO_ROOT, 'bench/lib/seed-sqlite.ts')];
  for (const file of inputs) hash.update(relative(REPO_ROOT, file)).update(readFileSync(file));
  hash.update(`installations:${installations}`);
  return hash.digest('hex').slice(0, 16);
}

async function readWholeFile(path: string): Promise<number> {
  const started = performance.now();
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(16 << 20);
    for (let position = 0; ; ) {
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

// ---- PostgreSQL (not in the registry yet: issue 9) -------------------------------------------

function createPostgresEngine(): BenchEngine {
  const missing = 'the registry has no PostgreSQL engine yet (issue 9)';
  return {
    name: 'postgres',
    unavailable: missing,
    // Once the registry runs on PostgreSQL: CREATE DATABASE bench_<label>_<random> on
    // 127.0.0.1:5432 (user postgres, trust), return postgres://postgres@127.0.0.1:5432/<name>,
    // count with SELECT count(*) FROM installations, and DROP DATABASE on drop().
    freshDatabase: async () => {
      throw new Error(missing);
    },
    // Once it does: a seed-postgres.ts beside seed-sqlite.ts, fed the same generateInstallations()
    // rows (COPY is the fast path), cached as a template database; copy() = CREATE DATABASE … TEMPLATE.
    seededDatabase: async () => {
      throw new Error(missing);
    },
  };
}
