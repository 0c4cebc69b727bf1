import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { createManualClock } from '../../src/clock.ts';
import type { BackoffPolicy } from '../../src/outbox/backoff.ts';
import { openStore, type OpenStoreOptions } from '../../src/db/open-store.ts';
import type { RegistryStore } from '../../src/db/store.ts';
import type { TrustProxy } from '../../src/http/client-address.ts';
import type { ApiKeyEntry } from '../../src/http/scopes.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import { createRegistry, type PushOptions, type Registry } from '../../src/registry.ts';
import { REPO_ROOT } from './process.ts';
import { createTestSigner, type TestSigner } from './sign.ts';
import { createTestDatabase, TEST_ENGINE, type ScratchDatabase } from './engine.ts';
import type { TestDatabase } from './database.ts';

const runFile = promisify(execFile);

export const TEST_API_KEY = 'test-api-key-0123456789abcdef';
export const TEST_APP_ID = '11111111-2222-4333-8444-555555555555';
export const TEST_APP_SECRET = 'test-app-secret';

export interface TestRegistry {
  registry: Registry;
  app: Registry['app'];
  store: RegistryStore;
  /** A temporary directory of the test's own (files beside the database: exports, imports). */
  dir: string;
  /** DATABASE_URL for this registry's database (a file path on SQLite, a URL on PostgreSQL): for the CLI. */
  databaseUrl: string;
  /** The SQLite file; throws on PostgreSQL (a test that needs the file runs on SQLite only). */
  dbPath: string;
  /**
   * The test's own connection to the same database, on either engine, for looking at rows and
   * for changing them behind the registry's back (see test/helpers/database.ts).
   */
  db: TestDatabase;
  signer: TestSigner;
  clock: ReturnType<typeof createManualClock>;
  /** POSTs a body to /webhooks/wix through app.request(). */
  deliver(body: string, init?: RequestInit): Promise<Response>;
  /** GET with the test API key. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /**
   * A better-sqlite3 connection of the test's own to the same file, closed after `use`: for the
   * tests about SQLite itself (pragmas, the file). Throws on PostgreSQL: use `db`.
   */
  sql<T>(use: (db: Database.Database) => T): T;
  /**
   * Closes and reopens the store and the registry on the same file (a restart), with some options
   * changed if given (a new REGISTRY_API_KEYS, a new retention, other push endpoints).
   */
  restart(changes?: Pick<TestRegistryOptions, 'apiKeys' | 'rawDeliveryRetentionDays' | 'push'>): Promise<void>;
  /** The environment of a `wix-registry` command on this registry's database: live mode, the test app. */
  cliEnv: Record<string, string>;
  /** Runs `wix-registry <args…>` as a child process on this registry's database (beside it, as an operator would): its stdout. */
  cli(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

let sharedSigner: Promise<TestSigner> | undefined;

/**
 * The real registry on a fresh database of the run's engine (test/helpers/engine.ts), migrated
 * as the server migrates it, with a manual clock.
 */
export interface TestRegistryOptions {
  wixApiBaseUrl?: string;
  now?: number;
  corsOrigins?: string[];
  backoff?: BackoffPolicy;
  wixRequestTimeoutMs?: number;
  /** Default: [TEST_API_KEY] (every scope). */
  apiKeys?: ApiKeyEntry[];
  /** Default: silent. */
  logger?: Logger;
  trustProxy?: TrustProxy;
  appInstanceRateLimitPerMinute?: number;
  /** The SQLite store's knobs (readers, read queue, planner); default: two readers. */
  sqlite?: OpenStoreOptions['sqlite'];
  /** RAW_DELIVERY_RETENTION_DAYS (default 30). */
  rawDeliveryRetentionDays?: number;
  /** A database file to start from (copied first): a restored backup. SQLite only. */
  restoreFrom?: string;
  /** REGISTRY_EVENT_ENDPOINTS / REGISTRY_EVENT_SECRET (pushes start with `registry.start()`). */
  push?: PushOptions;
  /** The outbox workers' longest sleep between looks (default: the worker's own). */
  outboxPollIntervalMs?: number;
}

/** Opens a connection of a test's own on a registry file, and always closes it. */
export function withSqlite<T>(dbPath: string, use: (db: Database.Database) => T): T {
  const db = new Database(dbPath, { timeout: 5_000 });
  try {
    return use(db);
  } finally {
    db.close();
  }
}

export async function createTestRegistry(initialOptions: TestRegistryOptions = {}): Promise<TestRegistry> {
  let options = initialOptions;
  sharedSigner ??= createTestSigner();
  const signer = await sharedSigner;
  const database = await createTestDatabase();
  if (options.restoreFrom) copyFileSync(options.restoreFrom, sqliteOnly(database, 'restoreFrom'));
  const clock = createManualClock(options.now ?? Date.UTC(2026, 10, 1));
  // The store as the server opens it: writer and reader threads (SQLite), its pools (PostgreSQL).
  const build = async () => {
    const store = await openStore(database.url, { threads: true, sqlite: { readers: 2, ...options.sqlite } });
    const registry = createRegistry({
      wix: { appId: TEST_APP_ID, appSecret: TEST_APP_SECRET, publicKeys: [createPublicKey(signer.publicKeyPem)] },
      wixApiBaseUrl: options.wixApiBaseUrl ?? 'http://127.0.0.1:9',
      apiKeys: options.apiKeys ?? [TEST_API_KEY],
      store,
      logger: options.logger ?? createLogger('silent'),
      ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}),
      ...(options.appInstanceRateLimitPerMinute ? { appInstanceRateLimitPerMinute: options.appInstanceRateLimitPerMinute } : {}),
      clock,
      corsOrigins: options.corsOrigins ?? [],
      backoff: options.backoff ?? { baseMs: 1_000, capMs: 60_000, maxAttempts: 5 },
      wixRequestTimeoutMs: options.wixRequestTimeoutMs ?? 2_000,
      ...(options.rawDeliveryRetentionDays !== undefined ? { rawDeliveryRetentionDays: options.rawDeliveryRetentionDays } : {}),
      ...(options.push ? { push: options.push } : {}),
      ...(options.outboxPollIntervalMs !== undefined ? { outboxPollIntervalMs: options.outboxPollIntervalMs } : {}),
    });
    return { store, registry };
  };
  let current: Awaited<ReturnType<typeof build>>;
  try {
    current = await build();
  } catch (error) {
    await database.drop();
    throw error;
  }
  const cliEnv = {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: database.url,
    WIX_APP_ID: TEST_APP_ID,
    WIX_APP_SECRET: TEST_APP_SECRET,
    WIX_PUBLIC_KEY: signer.publicKeyPem,
  };
  const harness: TestRegistry = {
    get registry() {
      return current.registry;
    },
    get app() {
      return current.registry.app;
    },
    get store() {
      return current.store;
    },
    dir: database.dir,
    databaseUrl: database.url,
    get dbPath() {
      return sqliteOnly(database, 'dbPath');
    },
    db: database.db,
    signer,
    clock,
    deliver: async (body, init) =>
      current.registry.app.request('/webhooks/wix', { method: 'POST', body, headers: { 'content-type': 'text/plain' }, ...init }),
    api: async (path, init) =>
      current.registry.app.request(path, { ...init, headers: { authorization: `Bearer ${TEST_API_KEY}`, ...(init?.headers ?? {}) } }),
    sql: (use) => withSqlite(sqliteOnly(database, 'sql()'), use),
    cliEnv,
    cli: async (...args) =>
      (await runFile(process.execPath, ['bin/wix-registry.js', ...args], { cwd: REPO_ROOT, env: cliEnv, timeout: 30_000 })).stdout,
    async restart(changes) {
      await current.registry.stop();
      await current.store.close();
      options = { ...options, ...changes };
      current = await build();
    },
    async close() {
      try {
        await current.registry.stop();
        await current.store.close();
      } finally {
        await database.drop();
      }
    },
  };
  return harness;
}

/** The file of a SQLite scratch database, for what only SQLite has; a clear failure on PostgreSQL. */
export function sqliteOnly(database: Pick<ScratchDatabase, 'sqlitePath'>, what: string): string {
  if (database.sqlitePath === undefined) {
    throw new Error(`${what} is SQLite's (a file); on ${TEST_ENGINE} use the engine-neutral db (test/helpers/database.ts)`);
  }
  return database.sqlitePath;
}

/** Row counts of the tables a delivery writes: the "nothing was written" check. */
export async function rowCounts(db: TestDatabase) {
  const count = async (table: string) => db.value<number>(`SELECT count(*) AS n FROM ${table}`);
  return { deliveries: await count('deliveries'), installations: await count('installations') };
}

export const sec = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/**
 * Bindings for app.request(path, init, bindings) that make a request look as if it came over a
 * socket from `address` (what getConnInfo reads), with its body already read into the Request.
 */
export function fromClient(address: string) {
  return {
    incoming: {
      socket: { remoteAddress: address, remotePort: 40_000, remoteFamily: address.includes(':') ? 'IPv6' : 'IPv4' },
      complete: true,
      readableEnded: true,
    },
  };
}
