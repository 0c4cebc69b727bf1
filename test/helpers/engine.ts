/**
 * Which storage engine the tests of this run exercise, and the scratch databases they run on.
 *
 * The integration and reliability suites are one conformance battery run twice: the `sqlite`
 * project of vitest.config.ts runs them on SQLite files, the `postgres` project on PostgreSQL
 * (REGISTRY_TEST_ENGINE=postgres). A test never picks an engine itself: it asks for a database
 * here (`createTestDatabase()`, or `createTestRegistry()` which uses it) and gets the run's engine.
 * A test that is about SQLite itself runs only under `describe.runIf(TEST_ENGINE === 'sqlite')`,
 * with a comment saying why.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openTestDatabase, type TestDatabase } from './database.ts';

export type TestEngine = 'sqlite' | 'postgres';

export const TEST_ENGINE: TestEngine = process.env.REGISTRY_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';

/** The server the PostgreSQL project makes its scratch databases on (CI's local PostgreSQL by default). */
export const DEFAULT_TEST_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export function testPostgresUrl(): string {
  return process.env.TEST_POSTGRES_URL || DEFAULT_TEST_POSTGRES_URL;
}

/**
 * Scratch database names start with this and the run's id (vitest.config.ts sets
 * REGISTRY_TEST_RUN_ID), so a run can drop whatever its crashed processes left behind without
 * touching the databases of another run or another project on the same server.
 */
export const SCRATCH_DATABASE_PREFIX = 'wixreg_t_';

export function scratchDatabasePrefix(runId = process.env.REGISTRY_TEST_RUN_ID ?? 'adhoc'): string {
  return `${SCRATCH_DATABASE_PREFIX}${runId}_`;
}

/** The URL of `database` on the same server as `serverUrl` (same user, host and options). */
export function postgresUrlFor(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs `use` on a short-lived connection to the server's maintenance database. */
export async function withPostgresAdmin<T>(use: (client: pg.Client) => Promise<T>, serverUrl = testPostgresUrl()): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/**
 * The migrated database the postgres project's global setup makes once per run
 * (postgres-global-setup.ts): a copy of it is a registry's database, migrated, at the price of a
 * file copy instead of running every migration again for each test.
 */
export function templateDatabaseName(runId: string): string {
  return `${scratchDatabasePrefix(runId)}template`;
}

/**
 * Creates a database with a unique name, returning its URL: a copy of the run's migrated
 * template when there is one (the registry then finds nothing to migrate), else empty (the
 * registry migrates it when it opens it).
 */
export async function createPostgresScratchDatabase(): Promise<{ name: string; url: string }> {
  const name = `${scratchDatabasePrefix()}${randomBytes(6).toString('hex')}`;
  const runId = process.env.REGISTRY_TEST_RUN_ID;
  const template = runId ? ` TEMPLATE ${templateDatabaseName(runId)}` : '';
  await withPostgresAdmin((admin) => admin.query(`CREATE DATABASE ${name}${template}`));
  return { name, url: postgresUrlFor(testPostgresUrl(), name) };
}

/** Drops a scratch database even if a server process still holds connections to it. */
export async function dropPostgresScratchDatabase(name: string): Promise<void> {
  await withPostgresAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/**
 * Drops still under way. DROP DATABASE waits for a checkpoint (most of a second on a busy
 * server), so `drop()` starts it and lets the test go on; the postgres project's setup file
 * waits for them after each test file (postgres-setup.ts), and the global teardown drops
 * whatever is left.
 */
const dropsUnderWay = new Set<Promise<void>>();

export async function settleScratchDrops(): Promise<void> {
  while (dropsUnderWay.size > 0) await Promise.all(dropsUnderWay);
}

/** A database of the run's engine for one test registry or one spawned server, removed by `drop()`. */
export interface ScratchDatabase {
  engine: TestEngine;
  /** What DATABASE_URL says for it: a SQLite file path, or a postgres:// URL. */
  url: string;
  /** A temporary directory of its own, for files beside the database (exports, imports, logs). */
  dir: string;
  /** The file, on SQLite; undefined on PostgreSQL. */
  sqlitePath: string | undefined;
  /** The test's own connection, for looking at rows and changing them behind the registry's back. */
  db: TestDatabase;
  /** Closes the test's connection and removes the database and the directory. */
  drop(): Promise<void>;
}

/**
 * A fresh, empty database of the run's engine. On SQLite a file in a new temporary directory
 * (`fileName`, which need not exist yet); on PostgreSQL a new database on TEST_POSTGRES_URL's server.
 */
export async function createTestDatabase(fileName = 'registry.db'): Promise<ScratchDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'wix-registry-test-'));
  if (TEST_ENGINE === 'sqlite') {
    const path = join(dir, fileName);
    const db = openTestDatabase(path);
    return {
      engine: 'sqlite',
      url: path,
      dir,
      sqlitePath: path,
      db,
      drop: async () => {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const { name, url } = await createPostgresScratchDatabase();
  const db = openTestDatabase(url);
  return {
    engine: 'postgres',
    url,
    dir,
    sqlitePath: undefined,
    db,
    drop: async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
      const dropping = dropPostgresScratchDatabase(name).finally(() => dropsUnderWay.delete(dropping));
      dropsUnderWay.add(dropping);
    },
  };
}
