/**
 * The postgres project's global setup, once per run: a migrated template database that every
 * scratch database of the run is copied from (engine.ts), and, after the run, dropping every
 * database of the run still there (the template, and what a test that timed out before its
 * `close()` or a killed server left behind). Only this run's databases: their names carry
 * REGISTRY_TEST_RUN_ID.
 */
import { parseDatabaseUrl } from '../../src/db/database-url.ts';
import { migrateDatabase } from '../../src/db/open-store.ts';
import { postgresUrlFor, scratchDatabasePrefix, templateDatabaseName, withPostgresAdmin } from './engine.ts';

export async function setup(project: { config: { env: Record<string, string | undefined> } }) {
  const { REGISTRY_TEST_RUN_ID: runId, TEST_POSTGRES_URL: serverUrl } = project.config.env;
  if (!runId || !serverUrl) throw new Error('the postgres project sets REGISTRY_TEST_RUN_ID and TEST_POSTGRES_URL (vitest.config.ts)');
  const template = templateDatabaseName(runId);
  await withPostgresAdmin((admin) => admin.query(`CREATE DATABASE ${template}`), serverUrl);
  await migrateDatabase(parseDatabaseUrl(postgresUrlFor(serverUrl, template)));

  return async function teardown() {
    const prefix = scratchDatabasePrefix(runId);
    await withPostgresAdmin(async (admin) => {
      const left = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, [prefix]);
      for (const { datname } of left.rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    }, serverUrl);
  };
}
