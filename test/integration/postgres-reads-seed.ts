import type Database from 'better-sqlite3';
import type pg from 'pg';

/**
 * One generated data set, written as plain rows into a SQLite registry database and into a
 * PostgreSQL one, so the two stores' reads can be held to the same answers
 * (postgres-reads.test.ts). Deterministic (a seeded generator), with ties in every sort key,
 * nulls, and text that needs escaping or folds differently outside ASCII.
 */

export const DAY_MS = 86_400_000;
/** 2026-01-01T00:00:00Z. */
export const BASE_MS = Date.UTC(2026, 0, 1);

type Value = string | number | boolean | null | object;
type Row = Record<string, Value>;

export interface SeedTable {
  name: string;
  rows: Row[];
  /** An identity column PostgreSQL generates ALWAYS: the seed gives its values (OVERRIDING SYSTEM VALUE). */
  identity?: boolean;
  /** Columns only SQLite's table has (deliveries.jwt, '' since delivery_jwts holds the JWTs). */
  sqliteOnly?: Row;
}

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function generator(seed: number) {
  let state = seed;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    int: (below: number) => Math.floor(next() * below),
    chance: (p: number) => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    hex: (length: number) => Array.from({ length }, () => Math.floor(next() * 16).toString(16)).join(''),
  };
}

/** Site names that a search must match exactly as SQLite's LIKE does (escaping, ASCII-only case folding). */
export const SPECIAL_NAMES = [
  'Bakery 100% Natural',
  'Snake_case Studio',
  'Bob\'s "Best", Bakery',
  'YOGA in the park',
  '=HYPERLINK("http://evil.example")',
  'Line\nbreak',
  'Café Müller',
  'CAFÉ MÜLLER',
  'Back\\slash Shop',
  'Kelvin \u212a Lab',
  'Ünïcödé Ärt',
] as const;
const WORDS = ['studio', 'Garden', 'PHOTO', 'bakery', 'Yoga', 'shop', 'Atelier', 'blog', 'café', 'Tech', 'art', 'fit'];
const PRODUCTS = ['premium', 'business', 'Pro_Plan'];

export interface SeedData {
  tables: SeedTable[];
  /** The per-day figures the outbox and the ingest path keep (installs, removals, churn), written after the installations. */
  dailyFigures: Row[];
  instanceIds: string[];
  deliveryIds: number[];
  endpoints: string[];
  sessionHashes: string[];
}

export function generateSeed(installationCount: number): SeedData {
  const random = generator(20261126);
  const installations: Row[] = [];
  const instanceIds: string[] = [];
  for (let i = 0; i < installationCount; i++) {
    // Mostly Wix-like UUIDs; some ids with upper case, `_`, `%` or non-ASCII, which sort and search differently.
    const uuid = `${random.hex(8)}-${random.hex(4)}-4${random.hex(3)}-8${random.hex(3)}-${random.hex(12)}`;
    const instanceId = i % 50 === 0 ? `Inst_${i}%X` : i % 61 === 0 ? `ü-${uuid}` : i % 7 === 0 ? uuid.toUpperCase() : uuid;
    instanceIds.push(instanceId);
    // Few distinct times: many ties on each sort key.
    const installedAt = BASE_MS + random.int(400) * 6 * 3_600_000;
    const removed = random.chance(0.35);
    const removedAt = removed ? installedAt + random.int(120) * 6 * 3_600_000 : null;
    const product = random.chance(0.25) ? random.pick(PRODUCTS) : null;
    const name = random.chance(0.15)
      ? null
      : random.chance(0.1)
        ? random.pick(SPECIAL_NAMES)
        : `${random.pick(WORDS)} ${random.pick(WORDS)} ${i % 13 === 0 ? 'Natural' : ''}`.trim();
    installations.push({
      instance_id: instanceId,
      app_id: random.chance(0.9) ? 'app-1' : null,
      status: removed ? 'removed' : 'active',
      installed_at: installedAt,
      installed_at_inferred: random.chance(0.1),
      removed_at: removedAt,
      origin_instance_id: random.chance(0.05) ? instanceIds[random.int(instanceIds.length)]! : null,
      last_event_at: (removedAt ?? installedAt) + random.int(3) * 60_000,
      first_seen_at: installedAt,
      updated_at: BASE_MS + random.int(300) * 3_600_000,
      configured_at: random.chance(0.6) ? installedAt + 5_000 : null,
      plan_vendor_product_id: product,
      plan_cycle: product ? random.pick(['MONTHLY', 'YEARLY']) : null,
      plan_expires_on: product ? '2027-01-01' : null,
      plan_auto_renewing: product ? random.chance(0.5) : null,
      plan_changed_at: product ? installedAt + 3_600_000 : null,
      site_id: random.chance(0.8) ? `site-${i}` : null,
      account_id: random.chance(0.8) ? `acct-${i % 97}` : null,
      site_name: name,
      site_url: random.chance(0.2) ? null : `https://user${i}.wixsite.com/${(name ?? 'site').toLowerCase().replace(/[^a-z]+/g, '-')}`,
      app_version: random.chance(0.5) ? `1.${random.int(5)}.0` : null,
      is_free: random.chance(0.2) ? null : random.chance(0.6),
      site_synced_at: random.chance(0.5) ? installedAt + 60_000 : null,
      checked_at: random.chance(0.3) ? installedAt + 120_000 : null,
    });
  }

  const deliveries: Row[] = [];
  const deliveryJwts: Row[] = [];
  for (let i = 0; i < 400; i++) {
    const id = i + 1;
    const instanceId = instanceIds[random.int(60)]!;
    const source = i % 9 === 0 ? 'reconcile' : i % 17 === 0 ? 'import' : 'wix';
    const issuedAt = BASE_MS + random.int(50) * 60_000;
    deliveries.push({
      id,
      jwt_sha256: source === 'wix' ? `sha-${id}` : `${source}:${instanceId}:${id}`,
      event_type: random.pick(['AppInstalled', 'AppRemoved', 'PaidPlanPurchased', 'SomethingElse']),
      instance_id: instanceId,
      issued_at: issuedAt,
      received_at: issuedAt + random.int(5_000),
      outcome: random.pick(['applied', 'stale', 'ignored']),
      payload: {
        data: { zeta: 1, alpha: { nested: [1, 'two', null] }, text: `Ünï ${id}` },
        identity: { identityType: 'ANONYMOUS_VISITOR' },
        accountInfo: { siteId: `site-${id}` },
      },
      source,
    });
    // Every fifth Wix JWT was pruned by retention: no row in delivery_jwts.
    if (source === 'wix' && i % 5 !== 0) deliveryJwts.push({ delivery_id: id, jwt: `header.payload-${id}.signature` });
  }

  const endpoints = ['https://b.example/hook', 'https://a.example/hook', 'https://old.example/hook'];
  const pushEndpoints: Row[] = endpoints.map((url, i) => ({
    url,
    active: i < 2,
    added_at: BASE_MS,
    last_success_at: i === 0 ? BASE_MS + 1_000 : null,
    last_failure_at: i === 1 ? BASE_MS + 2_000 : null,
    last_error: i === 1 ? 'HTTP 500' : null,
    consecutive_failures: i,
    failed_attempts: i * 3,
    delivered: 10 - i,
  }));

  const changes: Row[] = [];
  for (let position = 1; position <= 500; position++) {
    const installation = installations[random.int(80)]!;
    changes.push({
      position,
      id: `chg_${position}`,
      type: random.pick(['installation.installed', 'installation.removed', 'installation.plan_changed', 'installation.site_updated']),
      instance_id: installation.instance_id as string,
      occurred_at: BASE_MS + position * 1_000,
      recorded_at: BASE_MS + position * 1_000 + 5,
      installation: camelCased(installation),
    });
  }

  const outboxJobs: Row[] = [];
  for (let id = 1; id <= 300; id++) {
    const push = id % 3 === 0;
    outboxJobs.push({
      id,
      kind: push ? 'push_change' : random.pick(['finished_configuration', 'sync_instance']),
      instance_id: instanceIds[id % 40]!,
      // Unique per (instance, kind) for the Wix jobs: outbox_jobs_once_per_installation.
      installation_started_at: BASE_MS + id,
      status: random.pick(['pending', 'running', 'done', 'dead', 'cancelled']),
      attempts: random.int(4),
      run_after: BASE_MS + random.int(1_000) * 1_000,
      lease_until: random.chance(0.3) ? BASE_MS + 9_000 : null,
      last_error: random.chance(0.3) ? 'timeout' : null,
      created_at: BASE_MS + id,
      updated_at: BASE_MS + id * 2,
      completed_at: random.chance(0.3) ? BASE_MS + id * 3 : null,
      endpoint: push ? random.pick(endpoints) : null,
      change_position: push ? random.int(500) + 1 : null,
    });
  }

  const tokenHandouts: Row[] = [];
  for (let id = 1; id <= 1_200; id++) {
    const outcome = random.pick(['issued', 'issued', 'unknown_instance', 'removed_instance', 'refused', 'failed']);
    tokenHandouts.push({
      id,
      api_key_id: random.pick(['key-a', 'key-b', 'key-c']),
      instance_id: instanceIds[random.int(30)]!,
      // Ties on requested_at: the id breaks them.
      requested_at: BASE_MS + random.int(200) * 60_000,
      outcome,
      token_expires_at: outcome === 'issued' ? BASE_MS + 4 * 3_600_000 : null,
      request_id: random.chance(0.7) ? `req-${id}` : null,
    });
  }

  const sessionHashes = ['aa11', 'bb22', 'cc33', 'dd44', 'ee55'];
  const sessions: Row[] = sessionHashes.map((hash, i) => ({
    id_hash: hash,
    api_key_id: i % 2 ? 'key-a' : 'key-b',
    created_at: BASE_MS + i * 7_000,
    expires_at: BASE_MS + i * 7_000 + DAY_MS,
  }));

  const dailyFigures: Row[] = [];
  for (let d = 0; d < 420; d += 1 + random.int(3)) {
    dailyFigures.push({
      day: BASE_MS / DAY_MS + d,
      installs: random.int(20),
      removals: random.int(8),
      churn_1d: random.int(3),
      churn_7d: random.int(5),
      churn_30d: random.int(7),
    });
  }

  return {
    tables: [
      { name: 'installations', rows: installations },
      { name: 'deliveries', rows: deliveries, identity: true, sqliteOnly: { jwt: '' } },
      { name: 'delivery_jwts', rows: deliveryJwts },
      { name: 'push_endpoints', rows: pushEndpoints },
      { name: 'changes', rows: changes, identity: true },
      { name: 'outbox_jobs', rows: outboxJobs, identity: true },
      { name: 'token_handouts', rows: tokenHandouts, identity: true },
      { name: 'dashboard_sessions', rows: sessions },
    ],
    dailyFigures,
    instanceIds,
    deliveryIds: deliveries.map((d) => d.id as number),
    endpoints,
    sessionHashes,
  };
}

/** An installations row as the InstallationRecord a change stores. */
function camelCased(row: Row): Row {
  return Object.fromEntries(
    Object.entries(row).map(([column, value]) => [column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), value]),
  );
}

const DAILY_UPSERT = (placeholders: string) =>
  `INSERT INTO daily_summary (day, installs, removals, churn_1d, churn_7d, churn_30d) VALUES ${placeholders}
   ON CONFLICT (day) DO UPDATE SET installs = excluded.installs, removals = excluded.removals,
     churn_1d = excluded.churn_1d, churn_7d = excluded.churn_7d, churn_30d = excluded.churn_30d`;

/** The rows into the SQLite registry database: booleans as 0/1, JSON as text, as its schema stores them. */
export function seedSqlite(db: Database.Database, seed: SeedData): void {
  const asSqlite = (value: Value) =>
    typeof value === 'boolean' ? Number(value) : value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
  db.transaction(() => {
    for (const table of seed.tables) {
      const rows = table.rows.map((row) => ({ ...row, ...table.sqliteOnly }));
      const columns = Object.keys(rows[0]!);
      const insert = db.prepare(`INSERT INTO ${table.name} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
      for (const row of rows) insert.run(...columns.map((c) => asSqlite(row[c]!)));
    }
    const upsert = db.prepare(DAILY_UPSERT('(?, ?, ?, ?, ?, ?)'));
    for (const f of seed.dailyFigures) upsert.run(f.day, f.installs, f.removals, f.churn_1d, f.churn_7d, f.churn_30d);
  })();
}

/** The same rows into PostgreSQL (booleans and jsonb as such), in multi-row INSERTs, then ANALYZE so the planner sees real statistics. */
export async function seedPostgres(pool: pg.Pool, seed: SeedData): Promise<void> {
  const asPg = (value: Value) => (value !== null && typeof value === 'object' ? JSON.stringify(value) : value);
  const insertRows = async (sqlFor: (placeholders: string) => string, columns: string[], rows: Row[]) => {
    for (let start = 0; start < rows.length; start += 500) {
      const batch = rows.slice(start, start + 500);
      const params: unknown[] = [];
      const placeholders = batch.map((row) => `(${columns.map((c) => `$${params.push(asPg(row[c]!))}`).join(', ')})`).join(', ');
      await pool.query(sqlFor(placeholders), params);
    }
  };
  for (const table of seed.tables) {
    const columns = Object.keys(table.rows[0]!);
    const overriding = table.identity ? 'OVERRIDING SYSTEM VALUE' : '';
    await insertRows((values) => `INSERT INTO ${table.name} (${columns.join(', ')}) ${overriding} VALUES ${values}`, columns, table.rows);
  }
  await insertRows(DAILY_UPSERT, ['day', 'installs', 'removals', 'churn_1d', 'churn_7d', 'churn_30d'], seed.dailyFigures);
  await pool.query('ANALYZE');
}
