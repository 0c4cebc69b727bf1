/**
 * The PostgreSQL project's global setup: after the run, drops every scratch database the run's
 * tests left behind (a test that timed out before its `close()`, a server killed mid-test).
 * Only this run's databases: their names carry REGISTRY_TEST_RUN_ID (see engine.ts).
 */
import { scratchDatabasePrefix, withPostgresAdmin } from './engine.ts';

export function setup(project: { config: { env: Record<string, string | undefined> } }) {
  const { REGISTRY_TEST_RUN_ID: runId, TEST_POSTGRES_URL: serverUrl } = project.config.env;
  return async function teardown() {
    if (!runId || !serverUrl) return;
    const prefix = scratchDatabasePrefix(runId);
    await withPostgresAdmin(async (admin) => {
      const left = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, [prefix]);
      for (const { datname } of left.rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    }, serverUrl);
  };
}
