/**
 * Every statement of the bench that knows the registry's PostgreSQL schema is in this file (the
 * SQLite twin is seed-sqlite.ts): when that schema changes, adapt this file and nothing else.
 *
 * seedPostgres() writes the generated installations (seed-data.ts, the same rows SQLite gets)
 * into a new database whose schema the app's own migrations created (`wix-registry migrate`):
 * one deliveries row per event with its history payload and raw JWT row, and each installation's
 * current state. For speed, as on SQLite: secondary indexes (the pg_trgm search index included)
 * are dropped during the load and re-created from their own definitions afterwards, and the
 * installations triggers (counters, the summary's active_delta) are switched off during the load
 * and their result written once from the rows, by the same rules (migration 0001).
 *
 * The raw JWT is a short placeholder (no query reads it), as on SQLite.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { runMigrations } from './registry-env.ts';
import type { SeedInstallation } from './seed-data.ts';

/** Installations per INSERT … SELECT FROM unnest(…) statement (each array one parameter). */
const BATCH_ROWS = 10_000;
const DAY_MS = 86_400_000;

/** int8 as JS numbers in the bench's own queries. */
export const numericTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 || oid === 1700
      ? (value: string) => Number(value)
      : (pg.types.getTypeParser(oid, format) as (value: string) => unknown)) as typeof pg.types.getTypeParser,
};

export async function withPostgres<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, types: numericTypes, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function seedPostgres(
  url: string,
  rows: Iterable<SeedInstallation>,
  onProgress: (installations: number) => void = () => {},
): Promise<void> {
  await runMigrations(url);
  await withPostgres(url, async (db) => {
    await db.query(`SET synchronous_commit = off`);
    await db.query(`SET maintenance_work_mem = '512MB'`);
    const indexes = (
      await db.query<{ name: string; definition: string }>(
        `SELECT indexname AS name, indexdef AS definition FROM pg_indexes
         WHERE schemaname = 'public' AND tablename IN ('installations', 'deliveries')
           AND indexname NOT IN (SELECT conname FROM pg_constraint)`,
      )
    ).rows;
    for (const index of indexes) await db.query(`DROP INDEX "${index.name}"`);
    await db.query(`ALTER TABLE installations DISABLE TRIGGER USER`);

    // installs, removals and churn per UTC day, counted as the app's summary counts them (seed-sqlite.ts does the same).
    const summary = new Map<number, [installs: number, removals: number, churn1d: number, churn7d: number, churn30d: number]>();
    const dayOf = (ms: number) => {
      const day = Math.floor(ms / DAY_MS);
      let entry = summary.get(day);
      if (!entry) summary.set(day, (entry = [0, 0, 0, 0, 0]));
      return entry;
    };

    let deliveryId = 0;
    const insertBatch = async (batch: SeedInstallation[]) => {
      const d = {
        id: [] as number[],
        sha: [] as string[],
        type: [] as string[],
        instance: [] as string[],
        issued: [] as number[],
        received: [] as number[],
        payload: [] as string[],
        jwt: [] as string[],
      };
      for (const row of batch) {
        for (const event of row.events) {
          deliveryId++;
          const seal = createHash('sha256').update(`${row.instanceId}:${deliveryId}`).digest('hex');
          d.id.push(deliveryId);
          d.sha.push(seal);
          d.type.push(event.eventType);
          d.instance.push(row.instanceId);
          d.issued.push(event.issuedAt);
          d.received.push(event.receivedAt);
          d.payload.push(JSON.stringify({ data: event.data, identity: event.identity, accountInfo: event.accountInfo }));
          d.jwt.push(`bench.${seal.slice(0, 43)}.seeded`);
        }
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
      const column = (pick: (row: SeedInstallation) => unknown) => batch.map(pick);
      await db.query('BEGIN');
      await db.query(
        `INSERT INTO installations (
           instance_id, app_id, status, installed_at, installed_at_inferred, removed_at, origin_instance_id, last_event_at,
           first_seen_at, updated_at, configured_at, plan_vendor_product_id, plan_cycle, plan_expires_on, plan_auto_renewing,
           plan_changed_at, site_id, account_id, site_name, site_url, app_version, is_free, site_synced_at)
         SELECT i, a, s, ia, false, ra, o, le, fs, ua, ca, pv, pc, pe, par, pca, si, ac, sn, su, av, fr, ss
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[],
                     $10::bigint[], $11::text[], $12::text[], $13::text[], $14::boolean[], $15::bigint[], $16::text[], $17::text[], $18::text[],
                     $19::text[], $20::text[], $21::boolean[], $22::bigint[])
           AS t(i, a, s, ia, ra, o, le, fs, ua, ca, pv, pc, pe, par, pca, si, ac, sn, su, av, fr, ss)`,
        [
          column((r) => r.instanceId),
          column((r) => r.appId),
          column((r) => r.status),
          column((r) => r.installedAt),
          column((r) => r.removedAt),
          column((r) => r.originInstanceId),
          column((r) => r.lastEventAt),
          column((r) => r.firstSeenAt),
          column((r) => r.updatedAt),
          column((r) => r.configuredAt),
          column((r) => r.plan?.vendorProductId ?? null),
          column((r) => r.plan?.cycle ?? null),
          column((r) => r.plan?.expiresOn ?? null),
          column((r) => (r.plan ? r.plan.autoRenewing : null)),
          column((r) => r.plan?.changedAt ?? null),
          column((r) => r.siteId),
          column((r) => r.accountId),
          column((r) => r.site?.name ?? null),
          column((r) => r.site?.url ?? null),
          column((r) => r.site?.appVersion ?? null),
          column((r) => (r.site ? r.site.isFree : null)),
          column((r) => r.site?.syncedAt ?? null),
        ],
      );
      await db.query(
        `INSERT INTO deliveries (id, jwt_sha256, event_type, instance_id, issued_at, received_at, outcome, payload)
         OVERRIDING SYSTEM VALUE
         SELECT id, sha, et, ii, ia, ra, 'applied', p FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::jsonb[])
           AS t(id, sha, et, ii, ia, ra, p)`,
        [d.id, d.sha, d.type, d.instance, d.issued, d.received, d.payload],
      );
      await db.query(`INSERT INTO delivery_jwts (delivery_id, jwt) SELECT * FROM unnest($1::bigint[], $2::text[])`, [d.id, d.jwt]);
      await db.query('COMMIT');
    };

    let batch: SeedInstallation[] = [];
    let written = 0;
    for (const row of rows) {
      batch.push(row);
      if (batch.length === BATCH_ROWS) {
        await insertBatch(batch);
        written += batch.length;
        batch = [];
        if (written % 100_000 === 0) onProgress(written);
      }
    }
    if (batch.length > 0) await insertBatch(batch);
    await db.query(`SELECT setval(pg_get_serial_sequence('deliveries', 'id'), (SELECT coalesce(max(id), 1) FROM deliveries))`);

    // What the switched-off triggers would have kept: the counters and the summary's active_delta
    // (+1 on the day of installed_at, -1 on the day of removed_at), then the app's own per-day counts.
    await db.query(`ALTER TABLE installations ENABLE TRIGGER USER`);
    await db.query(
      `UPDATE registry_counters c SET value = (SELECT count(*) FROM installations i WHERE 'installations.' || i.status = c.name)
       WHERE c.name IN ('installations.active', 'installations.removed')`,
    );
    await db.query(
      `INSERT INTO daily_summary (day, active_delta)
       SELECT day, sum(delta) FROM (
         SELECT installed_at / ${DAY_MS} AS day, 1 AS delta FROM installations
         UNION ALL SELECT removed_at / ${DAY_MS}, -1 FROM installations WHERE removed_at IS NOT NULL) AS t
       GROUP BY day
       ON CONFLICT (day) DO UPDATE SET active_delta = daily_summary.active_delta + excluded.active_delta`,
    );
    const days = [...summary.entries()];
    await db.query(
      `INSERT INTO daily_summary (day, installs, removals, churn_1d, churn_7d, churn_30d)
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
       ON CONFLICT (day) DO UPDATE SET installs = daily_summary.installs + excluded.installs, removals = daily_summary.removals + excluded.removals,
         churn_1d = daily_summary.churn_1d + excluded.churn_1d, churn_7d = daily_summary.churn_7d + excluded.churn_7d,
         churn_30d = daily_summary.churn_30d + excluded.churn_30d`,
      [days.map(([day]) => day), ...[0, 1, 2, 3, 4].map((k) => days.map(([, counts]) => counts[k]))],
    );
    for (const index of indexes) await db.query(index.definition);
    await db.query('VACUUM ANALYZE');
  });
}

/** Rows in `installations` (the ingest "lost" check). */
export async function countPostgresInstallations(url: string): Promise<number> {
  return withPostgres(url, async (db) => (await db.query<{ n: number }>('SELECT count(*) AS n FROM installations')).rows[0]!.n);
}

/**
 * What the database weighs: its size on disk, and the bytes in use — every relation's pages minus
 * the free space pgstattuple finds in the tables (the SQLite figure leaves out the freelist).
 * Without the pgstattuple extension, "in use" is the size of the relations.
 */
export async function postgresStorage(url: string): Promise<{ fileBytes: number; usedBytes: number }> {
  return withPostgres(url, async (db) => {
    await db.query('CHECKPOINT').catch(() => {});
    const fileBytes = (await db.query<{ n: number }>('SELECT pg_database_size(current_database()) AS n')).rows[0]!.n;
    const relations = (
      await db.query<{ n: number }>(`SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS n FROM pg_class c
       JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'public' AND c.relkind = 'r'`)
    ).rows[0]!.n;
    let free = 0;
    try {
      await db.query('CREATE EXTENSION IF NOT EXISTS pgstattuple');
      free = (
        await db.query<{ n: number }>(`SELECT coalesce(sum((pgstattuple(c.oid)).free_space), 0) AS n FROM pg_class c
           JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'public' AND c.relkind = 'r'`)
      ).rows[0]!.n;
    } catch {
      // no pgstattuple: "in use" is then the relations' size
    }
    return { fileBytes, usedBytes: relations - free };
  });
}

/** Moves every delivery's receive time `ms` into the past (the retention figure). */
export async function backdatePostgresDeliveries(url: string, ms: number): Promise<void> {
  await withPostgres(url, async (db) => {
    await db.query('UPDATE deliveries SET received_at = received_at - $1', [ms]);
  });
}

/** Reads every table and index of the database once (pg_prewarm when available), so queries meet a warm cache. Seconds. */
export async function warmPostgres(url: string): Promise<number> {
  const started = performance.now();
  await withPostgres(url, async (db) => {
    const relations = (
      await db.query<{ name: string }>(`SELECT c.oid::regclass::text AS name FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
         WHERE s.nspname = 'public' AND c.relkind IN ('r', 'i')`)
    ).rows;
    try {
      await db.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
      for (const r of relations) await db.query('SELECT pg_prewarm($1::regclass)', [r.name]);
    } catch {
      for (const table of ['installations', 'deliveries', 'daily_summary']) await db.query(`SELECT count(*) FROM ${table}`);
    }
  });
  return (performance.now() - started) / 1000;
}
