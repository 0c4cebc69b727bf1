import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { DEFAULT_TEST_POSTGRES_URL } from './test/helpers/engine.ts';
import { CHROMIUM } from './test/helpers/browser.ts';

/**
 * Two projects, one battery: `sqlite` runs every test; `postgres` runs the integration and
 * reliability suites again (the same files) on PostgreSQL, and the multi-replica tests.
 * `npx vitest run --project sqlite` runs one engine.
 *
 * What the tests need from the machine is probed here, once: PostgreSQL (TEST_POSTGRES_URL, else
 * the local server) and Chromium. Without one, its part is skipped with a loud line saying how
 * to get it; under CI=true a missing part fails the run instead, so CI never passes by skipping.
 */
const ENGINE_SUITES = ['test/integration/**/*.test.ts', 'test/reliability/**/*.test.ts'];
const REPLICA_SUITES = ['test/replicas/**/*.test.ts'];
/** The PostgreSQL store's own tests (inside ENGINE_SUITES): once, in the postgres project. */
const POSTGRES_ONLY = ['test/integration/postgres-*.test.ts'];
/** The bench's PostgreSQL seeder: in the postgres project only. */
const POSTGRES_BENCH = ['test/bench/seed-postgres.test.ts'];
const BROWSER_SUITES = ['test/browser/**'];

interface Missing {
  what: string;
  why: string;
  remedy: string;
}

async function probePostgres(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message || error.name : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

function banner(missing: Missing[]): string {
  const lines = missing.map((m) => `SKIPPED: ${m.what} (${m.why}). To run it: ${m.remedy}.`);
  return ['', '!'.repeat(100), ...lines, '!'.repeat(100), ''].join('\n');
}

/** The projects `--project` asks for (all when it is not given): nothing to probe for the others. */
function requestedProjects(argv: string[]): (name: string) => boolean {
  const names = argv.flatMap((arg, i) =>
    arg === '--project' ? [argv[i + 1] ?? ''] : arg.startsWith('--project=') ? [arg.slice('--project='.length)] : [],
  );
  return (name) => names.length === 0 || names.includes(name);
}

export default defineConfig(async () => {
  const wanted = requestedProjects(process.argv);
  const postgresUrl = process.env.TEST_POSTGRES_URL || DEFAULT_TEST_POSTGRES_URL;
  const postgresProblem = wanted('postgres') ? await probePostgres(postgresUrl) : 'not asked for (--project)';
  const missing: Missing[] = [];
  if (postgresProblem && wanted('postgres')) {
    missing.push({
      what: 'the PostgreSQL project (integration and reliability suites on PostgreSQL, multi-replica tests)',
      why: `no PostgreSQL at ${new URL(postgresUrl).host}: ${postgresProblem}`,
      remedy: `start PostgreSQL (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start), or set TEST_POSTGRES_URL to a server where the user may CREATE DATABASE`,
    });
  }
  const hasChromium = existsSync(CHROMIUM);
  if (!hasChromium && wanted('sqlite')) {
    missing.push({ what: 'the browser tests (test/browser/)', why: `${CHROMIUM} is missing`, remedy: 'apt-get install chromium' });
  }
  if (missing.length > 0) {
    const message = banner(missing);
    if (process.env.CI === 'true') throw new Error(`CI=true, and the tests need what this machine lacks:${message}`);
    // At the start, and again after the summary, where the eye lands when the run ends.
    console.warn(message);
    process.once('exit', () => console.warn(message));
  }

  // Scratch PostgreSQL databases carry the run's id: the global setup drops what a run leaves behind.
  const runId = randomBytes(3).toString('hex');
  const sqlite: TestProjectInlineConfiguration = {
    extends: true,
    test: {
      name: 'sqlite',
      include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
      exclude: [...configDefaults.exclude, ...REPLICA_SUITES, ...POSTGRES_ONLY, ...POSTGRES_BENCH, ...(hasChromium ? [] : BROWSER_SUITES)],
      env: { REGISTRY_TEST_ENGINE: 'sqlite' },
    },
  };
  const postgres: TestProjectInlineConfiguration = {
    extends: true,
    test: {
      name: 'postgres',
      include: [...ENGINE_SUITES, ...REPLICA_SUITES, ...POSTGRES_BENCH],
      env: { REGISTRY_TEST_ENGINE: 'postgres', REGISTRY_TEST_RUN_ID: runId, TEST_POSTGRES_URL: postgresUrl },
      globalSetup: ['test/helpers/postgres-global-setup.ts'],
      setupFiles: ['test/helpers/postgres-setup.ts'],
    },
  };
  return {
    test: {
      testTimeout: 20_000,
      hookTimeout: 30_000,
      // better-sqlite3 is a native addon: forks isolate it cleanly between files.
      pool: 'forks',
      projects: postgresProblem ? [sqlite] : [sqlite, postgres],
    },
  };
});
