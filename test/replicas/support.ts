/**
 * What the multi-replica tests share (not a test file itself): whether PostgreSQL is there, a
 * scratch database per test file, and several real `wix-registry serve` processes on it, each on
 * its own loopback port, against the fake Wix the reliability tests use.
 *
 * vitest.config.ts runs these files in the postgres project only, which exists when PostgreSQL
 * answers (and fails the run under CI=true when it does not). The guard below keeps them honest
 * when run some other way (a file named on the command line, the bench seeder's test in the
 * sqlite project): run when TEST_POSTGRES_URL or the local server answers, skip loudly otherwise,
 * never skip under CI=true. Scratch databases carry the run's prefix (test/helpers/engine.ts), so
 * the project's global teardown drops whatever a crashed file leaves behind.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe } from 'vitest';
import { postgresUrlFor, scratchDatabasePrefix, testPostgresUrl } from '../helpers/engine.ts';
import { liveRegistryEnv, spawnRegistry, type ServerProcess } from '../helpers/process.ts';
import { TEST_APP_ID, TEST_APP_SECRET } from '../helpers/registry.ts';

/** A maintenance database on the server the scratch databases are made on. */
export const POSTGRES_ADMIN_URL = testPostgresUrl();

const strict = process.env.CI === 'true';

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export const postgresAvailable = await postgresAnswers(POSTGRES_ADMIN_URL);

if (!postgresAvailable && !strict) {
  console.warn(
    `\n*** SKIPPED: the multi-replica tests (test/replicas/) need PostgreSQL, and ${redact(POSTGRES_ADMIN_URL)} does not answer. ` +
      `Start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or set TEST_POSTGRES_URL. ***\n`,
  );
}

/** `describe`, or `describe.skip` when there is no PostgreSQL and CI=true is not set. */
export const describeOnPostgres = postgresAvailable || strict ? describe : describe.skip;

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

/** Reads int8 and numeric as JS numbers in the test's own queries (counts, epoch-ms columns). */
const numericTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 || oid === 1700 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface ScratchDatabase {
  name: string;
  /** What the replicas get as DATABASE_URL. */
  url: string;
  /** A query of the test's own, on a small pool of its own. */
  query<Row extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
  /** Ends the test's pool and drops the database (WITH (FORCE): replicas may still hold connections). */
  drop(): Promise<void>;
}

/**
 * A new, empty database (not the run's migrated template: the replicas race to migrate it),
 * named with the run's prefix, `rep`, the label and a random part, so parallel files never collide.
 */
export async function createScratchDatabase(label: string): Promise<ScratchDatabase> {
  const name = `${scratchDatabasePrefix()}rep_${label.replace(/[^a-z0-9]/g, '').slice(0, 12)}_${randomBytes(5).toString('hex')}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = postgresUrlFor(POSTGRES_ADMIN_URL, name);
  const pool = new pg.Pool({ connectionString: url, max: 4, types: numericTypes });
  pool.on('error', () => {});
  return {
    name,
    url,
    async query(text, params = []) {
      return (await pool.query(text, params)).rows;
    },
    async drop() {
      await pool.end().catch(() => {});
      await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

async function withAdmin<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export interface Replicas {
  /** Every replica started, in order, dead ones included. */
  all: ServerProcess[];
  /** Starts `count` replicas at the same moment; resolves when every one listens. */
  start(count: number): Promise<ServerProcess[]>;
  /** SIGTERM to every replica still running, then waits for each to exit; the exit codes. */
  stopAll(): Promise<(number | null)[]>;
}

export const isRunning = (server: ServerProcess) => server.child.exitCode === null && server.child.signalCode === null;

/**
 * Replicas of one registry: the same app credentials, webhook key, API key, fake Wix and
 * PostgreSQL database; each process its own port on 127.0.0.1.
 */
export function replicasOf(options: {
  databaseUrl: string;
  wixUrl: string;
  publicKeyPem: string;
  apiKey: string;
  env?: Record<string, string>;
}): Replicas {
  const all: ServerProcess[] = [];
  const env = () =>
    liveRegistryEnv({
      appId: TEST_APP_ID,
      appSecret: TEST_APP_SECRET,
      publicKeyPem: options.publicKeyPem,
      wixUrl: options.wixUrl,
      databasePath: options.databaseUrl,
      // LOG_LEVEL stays info: spawnRegistry waits for the "listening" line. Reconciliation off:
      // these tests remove instances by webhook only, so the fake Wix still grants them tokens,
      // and a scheduled check of an installation older than RECONCILE_AFTER_DAYS would rightly
      // "repair" it as reinstalled in the middle of a test.
      overrides: { REGISTRY_API_KEYS: options.apiKey, RECONCILE_SCHEDULE: 'off', ...options.env },
    });
  return {
    all,
    async start(count) {
      const started = await Promise.allSettled(Array.from({ length: count }, () => spawnRegistry(env(), 60_000)));
      const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      all.push(...servers);
      const failed = started.flatMap((s) => (s.status === 'rejected' ? [String((s.reason as Error).message ?? s.reason)] : []));
      if (failed.length > 0)
        throw new Error(`${failed.length} of ${count} replicas did not start:\n${failed.join('\n---\n').slice(0, 6_000)}`);
      return servers;
    },
    async stopAll() {
      return Promise.all(
        all.map(async (server) => {
          if (isRunning(server)) server.child.kill('SIGTERM');
          const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
          try {
            return await server.exited;
          } finally {
            clearTimeout(timer);
          }
        }),
      );
    },
  };
}

/** A GET under /v1 with the API key: status and parsed body. */
export async function apiGet<T = unknown>(server: ServerProcess, apiKey: string, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });
  return { status: res.status, body: (await res.json()) as T };
}

/** POSTs a raw JWT to /webhooks/wix: status and the `status` the body names (accepted, duplicate…). */
export async function deliver(server: ServerProcess, jwt: string): Promise<{ status: number; outcome: string | undefined }> {
  const res = await fetch(`${server.url}/webhooks/wix`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: jwt });
  const text = await res.text();
  let outcome: string | undefined;
  try {
    outcome = (JSON.parse(text) as { status?: string }).status;
  } catch {
    outcome = undefined;
  }
  return { status: res.status, outcome };
}

/** Every installation as the list API pages it (newest first), for comparing replicas. */
export async function listEverything(server: ServerProcess, apiKey: string): Promise<unknown[]> {
  const items: unknown[] = [];
  let cursor: string | null = null;
  do {
    const page: { status: number; body: { items: unknown[]; nextCursor: string | null } } = await apiGet(
      server,
      apiKey,
      `/v1/installations?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    if (page.status !== 200) throw new Error(`GET /v1/installations answered ${page.status} on ${server.url}`);
    items.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return items;
}

/** Waits until the outbox has nothing pending or running, as GET /v1/stats says (throws after timeoutMs). */
export async function waitForOutboxIdle(server: ServerProcess, apiKey: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    const { body } = await apiGet<{ outbox?: Record<string, number> }>(server, apiKey, '/v1/stats');
    last = body;
    if ((body.outbox?.pending ?? 0) + (body.outbox?.running ?? 0) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`outbox still busy after ${timeoutMs} ms: ${JSON.stringify(last)}`);
}
