/**
 * Every statement of the bench that knows the registry's SQLite schema is in this file: when the
 * schema changes, adapt this file (and nothing else of the bench). test/bench/seed-sqlite.test.ts
 * checks it against a real registry process.
 *
 * seedSqlite() writes generated installations (seed-data.ts) into a new SQLite file whose
 * schema the app's own migrations created, the way the registry would have stored them: one
 * deliveries row per event with its history payload, and the installation's current state.
 * Secondary indexes are dropped during the load and re-created from their own SQL, which is
 * several times faster than keeping them up to date row by row; so is the search index, rebuilt
 * once at the end. Other triggers (the counters of /v1/stats, the summary's active_delta) stay
 * and fire as for real writes.
 *
 * It serves two schemas while issue 8's storage rewrite lands: the history in its own
 * installation_events table (before), or in deliveries.payload with a per-day summary that the
 * app itself writes (after: filled here from the same events). Once the rewrite is merged, the
 * first can go.
 *
 * The raw JWT (in delivery_jwts, or in deliveries.jwt before that table) is a short placeholder,
 * not a real ~1 KB JWT (no query reads it), so the file is smaller than a production one would be.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { runMigrations } from './registry-env.ts';
import type { SeedInstallation } from './seed-data.ts';

/** Installations per transaction. */
const BATCH_ROWS = 20_000;
const DAY_MS = 86_400_000;

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
    const columns = (table: string) =>
      new Set((db.prepare('SELECT name FROM pragma_table_info(?)').all(table) as { name: string }[]).map((c) => c.name));
    const historyInDeliveries = columns('deliveries').has('payload');
    const hasDailySummary = columns('daily_summary').size > 0;
    const indexes = db
      .prepare(
        `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('installations', 'deliveries', 'installation_events')`,
      )
      .all() as { name: string; sql: string }[];
    for (const index of indexes) db.exec(`DROP INDEX "${index.name}"`);
    // The search index (FTS5, issue 8) is filled in one rebuild after the load rather than row
    // by row from its triggers: several times faster. Its triggers come back afterwards.
    const searchTable = columns('installations_search').size > 0 ? 'installations_search' : null;
    const searchTriggers = searchTable
      ? (db
          .prepare(
            `SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'installations' AND (sql LIKE '%installations_search%' OR sql LIKE '%search_pending%')`,
          )
          .all() as { name: string; sql: string }[])
      : [];
    for (const trigger of searchTriggers) db.exec(`DROP TRIGGER "${trigger.name}"`);

    const insertInstallation = db.prepare(`INSERT INTO installations (
        instance_id, app_id, status, installed_at, installed_at_inferred, removed_at, origin_instance_id, last_event_at,
        first_seen_at, updated_at, configured_at, plan_vendor_product_id, plan_cycle, plan_expires_on, plan_auto_renewing,
        plan_changed_at, site_id, account_id, site_name, site_url, app_version, is_free, site_synced_at)
      VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const insertDelivery = historyInDeliveries
      ? db.prepare(
          `INSERT INTO deliveries (id, jwt_sha256, jwt, event_type, instance_id, issued_at, received_at, outcome, payload) VALUES (?, ?, ?, ?, ?, ?, ?, 'applied', ?)`,
        )
      : db.prepare(
          `INSERT INTO deliveries (id, jwt_sha256, jwt, event_type, instance_id, issued_at, received_at, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, 'applied')`,
        );
    // Since issue 12 the raw JWT has a table of its own (retention frees its pages); the row keeps ''.
    const insertJwt = columns('delivery_jwts').size > 0 ? db.prepare('INSERT INTO delivery_jwts (delivery_id, jwt) VALUES (?, ?)') : null;
    const insertEvent = historyInDeliveries
      ? null
      : db.prepare(
          `INSERT INTO installation_events (id, delivery_id, instance_id, event_type, issued_at, received_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        );
    // installs, removals and churn per UTC day, as the app's summary counts them: each install
    // (one per seeded instance) on its day, each removal on its day, and an install ended by the
    // removal less than 1, 7 or 30 days later. active_delta comes from the installations triggers.
    const summary = new Map<number, [installs: number, removals: number, churn1d: number, churn7d: number, churn30d: number]>();
    const dayOf = (ms: number) => {
      const day = Math.floor(ms / DAY_MS);
      let entry = summary.get(day);
      if (!entry) summary.set(day, (entry = [0, 0, 0, 0, 0]));
      return entry;
    };

    let deliveryId = 0;
    const insertBatch = db.transaction((batch: SeedInstallation[]) => {
      for (const row of batch) {
        for (const event of row.events) {
          deliveryId++;
          const seal = createHash('sha256').update(`${row.instanceId}:${deliveryId}`).digest('hex');
          let jwt = `bench.${seal.slice(0, 43)}.seeded`;
          if (insertJwt) {
            insertJwt.run(deliveryId, jwt);
            jwt = '';
          }
          const payload = JSON.stringify({ data: event.data, identity: event.identity, accountInfo: event.accountInfo });
          if (insertEvent) {
            insertDelivery.run(deliveryId, seal, jwt, event.eventType, row.instanceId, event.issuedAt, event.receivedAt);
            insertEvent.run(deliveryId, deliveryId, row.instanceId, event.eventType, event.issuedAt, event.receivedAt, payload);
          } else {
            insertDelivery.run(deliveryId, seal, jwt, event.eventType, row.instanceId, event.issuedAt, event.receivedAt, payload);
          }
        }
        if (hasDailySummary) {
          const installDay = dayOf(row.installedAt);
          installDay[0]++;
          if (row.removedAt !== null) {
            dayOf(row.removedAt)[1]++;
            const lifetime = row.removedAt - row.installedAt;
            if (lifetime < DAY_MS) installDay[2]++;
            if (lifetime < 7 * DAY_MS) installDay[3]++;
            if (lifetime < 30 * DAY_MS) installDay[4]++;
          }
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
    if (hasDailySummary) {
      const addDay =
        db.prepare(`INSERT INTO daily_summary (day, installs, removals, churn_1d, churn_7d, churn_30d) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (day) DO UPDATE SET installs = installs + excluded.installs, removals = removals + excluded.removals,
          churn_1d = churn_1d + excluded.churn_1d, churn_7d = churn_7d + excluded.churn_7d, churn_30d = churn_30d + excluded.churn_30d`);
      db.transaction(() => {
        for (const [day, counts] of summary) addDay.run(day, ...counts);
      })();
    }
    for (const index of indexes) db.exec(index.sql);
    if (searchTable) db.exec(`INSERT INTO ${searchTable} (${searchTable}) VALUES ('rebuild')`);
    // Everything is indexed now: nothing waits for the writer (migration 0011).
    if (columns('search_pending').size > 0) db.exec('DELETE FROM search_pending');
    for (const trigger of searchTriggers) db.exec(trigger.sql);
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

/** What a registry SQLite file weighs: the file (after a checkpoint) and the pages in use (the rest is the freelist). */
export function sqliteStorage(path: string): { fileBytes: number; usedBytes: number } {
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const pages = db.pragma('page_count', { simple: true }) as number;
    const free = db.pragma('freelist_count', { simple: true }) as number;
    return { fileBytes: pages * pageSize, usedBytes: (pages - free) * pageSize };
  } finally {
    db.close();
  }
}

/** Moves every delivery's receive time `ms` into the past, as if they had arrived that long ago (the retention figure). */
export function backdateSqliteDeliveries(path: string, ms: number): void {
  const db = new Database(path, { fileMustExist: true });
  try {
    db.prepare('UPDATE deliveries SET received_at = received_at - ?').run(ms);
  } finally {
    db.close();
  }
}
