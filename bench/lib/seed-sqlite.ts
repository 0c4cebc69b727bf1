/**
 * Every statement of the bench that knows the registry's SQLite schema is in this file: when the
 * schema changes, adapt this file (and nothing else of the bench).
 *
 * seedSqlite() writes generated installations (seed-data.ts) into a new SQLite file whose
 * schema the app's own migrations created, the way the registry would have stored them: one
 * deliveries row and one installation_events row per event, and the installation's current
 * state. Secondary indexes are dropped during the load and re-created from their own SQL, which
 * is several times faster than keeping them up to date row by row. Triggers (the counters of
 * /v1/stats) stay and fire as they would for real writes.
 *
 * deliveries.jwt holds a short placeholder, not a real ~800-byte JWT (no query reads it), so the
 * file is smaller than a production one would be.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { runMigrations } from './registry-env.ts';
import type { SeedInstallation } from './seed-data.ts';

/** Installations per transaction. */
const BATCH_ROWS = 20_000;

export async function seedSqlite(
  path: string,
  rows: Iterable<SeedInstallation>,
  onProgress: (installations: number) => void = () => {},
): Promise<void> {
  await runMigrations(path);

  const db = new Database(path);
  try {
    db.pragma('journal_mode = DELETE');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -1048576');
    db.pragma('temp_store = MEMORY');
    db.pragma('foreign_keys = OFF');
    const indexes = db
      .prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('installations', 'deliveries', 'installation_events')`)
      .all() as { name: string; sql: string }[];
    for (const index of indexes) db.exec(`DROP INDEX "${index.name}"`);

    const insertInstallation = db.prepare(`INSERT INTO installations (
        instance_id, app_id, status, installed_at, installed_at_inferred, removed_at, origin_instance_id, last_event_at,
        first_seen_at, updated_at, configured_at, plan_vendor_product_id, plan_cycle, plan_expires_on, plan_auto_renewing,
        plan_changed_at, site_id, account_id, site_name, site_url, app_version, is_free, site_synced_at)
      VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const insertDelivery = db.prepare(
      `INSERT INTO deliveries (id, jwt_sha256, jwt, event_type, instance_id, issued_at, received_at, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, 'applied')`,
    );
    const insertEvent = db.prepare(
      `INSERT INTO installation_events (id, delivery_id, instance_id, event_type, issued_at, received_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );

    let deliveryId = 0;
    const insertBatch = db.transaction((batch: SeedInstallation[]) => {
      for (const row of batch) {
        for (const event of row.events) {
          deliveryId++;
          const seal = createHash('sha256').update(`${row.instanceId}:${deliveryId}`).digest('hex');
          insertDelivery.run(deliveryId, seal, `bench.${seal.slice(0, 43)}.seeded`, event.eventType, row.instanceId, event.issuedAt, event.receivedAt);
          const payload = JSON.stringify({ data: event.data, identity: event.identity, accountInfo: event.accountInfo });
          insertEvent.run(deliveryId, deliveryId, row.instanceId, event.eventType, event.issuedAt, event.receivedAt, payload);
        }
        const { plan, site } = row;
        insertInstallation.run(
          row.instanceId,
          row.appId,
          row.status,
          row.installedAt,
          row.removedAt,
          row.originInstanceId,
          row.lastEventAt,
          row.firstSeenAt,
          row.updatedAt,
          row.configuredAt,
          plan?.vendorProductId ?? null,
          plan?.cycle ?? null,
          plan?.expiresOn ?? null,
          plan ? (plan.autoRenewing ? 1 : 0) : null,
          plan?.changedAt ?? null,
          row.siteId,
          row.accountId,
          site?.name ?? null,
          site?.url ?? null,
          site?.appVersion ?? null,
          site ? (site.isFree ? 1 : 0) : null,
          site?.syncedAt ?? null,
        );
      }
    });

    let batch: SeedInstallation[] = [];
    let written = 0;
    for (const row of rows) {
      batch.push(row);
      if (batch.length === BATCH_ROWS) {
        insertBatch(batch);
        written += batch.length;
        batch = [];
        onProgress(written);
        // Let signals (Ctrl-C) through between batches.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    if (batch.length > 0) insertBatch(batch);
    for (const index of indexes) db.exec(index.sql);
    db.pragma('journal_mode = WAL');
  } finally {
    db.close();
  }
}

/** Rows in a SQLite file's `installations` table (the registry's and every reference's). */
export function countSqliteInstallations(path: string): number {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM installations').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
