/**
 * The "queries at scale" database: 1,000,000 installations and 3,000,000 installation_events
 * (each with its deliveries row, which installation_events.delivery_id references), written
 * straight into SQLite with better-sqlite3 on the schema the registry's own `migrate` command
 * creates from migrations/. Cached under bench/results/ by a hash of the migrations and of this
 * seeder, so only the first run pays for it.
 *
 * Shape: 70% active, 30% removed; 1–5 events per installation (3 on average): AppInstalled,
 * then plan events, and AppRemoved last for removed ones; installedAt spread uniformly over the
 * two years before SEED_EPOCH; installation rows agree with what the state machine would fold
 * from their history. The deliveries.jwt column holds a short placeholder, not a real ~800-byte
 * JWT, so the file is smaller than a production one would be (no query reads that column).
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, spawnTracked } from './proc.ts';

/** Bump when the seeded data changes shape. */
export const SEED_VERSION = 1;
export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
/** Fixed, so a cached database is the same whenever it is built. */
const SEED_EPOCH = Date.UTC(2026, 9, 1);
const TWO_YEARS_MS = 730 * 86_400_000;

export interface SeedScale {
  installations: number;
  /** Average events per installation is 3 by construction (1 + i % 5). */
}

export interface SeededDatabase {
  path: string;
  cached: boolean;
  seconds: number;
  sizeMb: number;
  counts: { installations: number; active: number; removed: number; events: number; deliveries: number };
}

function schemaHash(scale: SeedScale): string {
  const hash = createHash('sha256');
  const dir = join(REPO_ROOT, 'migrations');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    hash.update(file).update(readFileSync(join(dir, file)));
  }
  const journal = join(dir, 'meta', '_journal.json');
  if (existsSync(journal)) hash.update(readFileSync(journal));
  hash.update(`seed-v${SEED_VERSION}:${scale.installations}`);
  return hash.digest('hex').slice(0, 16);
}

/** mulberry32: a seeded PRNG, so the cached database is reproducible. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function uuidFrom(random: () => number): string {
  let hex = '';
  for (let i = 0; i < 4; i++) hex += Math.floor(random() * 0x1_0000_0000).toString(16).padStart(8, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[Math.floor(random() * 4)]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const PLAN_SEQUENCE = ['PaidPlanPurchased', 'PaidPlanChanged', 'PaidPlanAutoRenewalCancelled', 'PlanReactivated'] as const;
const CYCLES = ['MONTHLY', 'YEARLY'] as const;
const PRODUCTS = ['basic', 'premium', 'business'] as const;

export interface SeedOptions {
  scale: SeedScale;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

/** Returns the cached seeded database, building it first if needed. */
export async function seededDatabase(options: SeedOptions): Promise<SeededDatabase> {
  const { scale, log } = options;
  mkdirSync(RESULTS_DIR, { recursive: true });
  const key = schemaHash(scale);
  const path = join(RESULTS_DIR, `queries-${key}.db`);
  if (existsSync(path)) {
    const counts = countRows(path);
    if (counts.installations === scale.installations) {
      return { path, cached: true, seconds: 0, sizeMb: statSync(path).size / 1048576, counts };
    }
  }
  // Other keys are stale (older schema or seeder): they are large, remove them.
  for (const file of readdirSync(RESULTS_DIR)) {
    if (/^queries-[0-9a-f]+\.db(-wal|-shm|\.partial.*)?$/.test(file)) rmSync(join(RESULTS_DIR, file), { force: true });
  }
  const partial = `${path}.partial`;
  const started = performance.now();
  log(`seeding ${scale.installations.toLocaleString('en-US')} installations into ${partial} (cached for next runs)…`);

  // 1. The schema, exactly as the registry creates it.
  const migrate = spawnTracked('wix-registry migrate', process.execPath, ['bin/wix-registry.js', 'migrate'], {
    env: { ...options.env, DATABASE_URL: partial },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const code = await migrate.exited;
  if (code !== 0) throw new Error(`wix-registry migrate failed (${code}):\n${migrate.tail()}`);

  // 2. Bulk insert, secondary indexes dropped meanwhile and re-created from their own SQL.
  const db = new Database(partial);
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

  const appId = '7f1b3c2e-0d4a-4e5b-9c6d-8e7f6a5b4c3d';
  const random = prng(20_261_001);
  let deliveryId = 0;
  const BATCH = 20_000;
  const insertBatch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const instanceId = uuidFrom(random);
      const siteId = uuidFrom(random);
      const accountId = uuidFrom(random);
      const userId = uuidFrom(random);
      const removed = i % 10 === 3 || i % 10 === 6 || i % 10 === 9;
      const eventCount = 1 + (i % 5);
      const installedAt = SEED_EPOCH - TWO_YEARS_MS + Math.floor(random() * TWO_YEARS_MS);
      const origin = i % 50 === 0 ? uuidFrom(random) : '';
      const accountInfo = { accountId, parentAccountId: accountId, siteId };
      const identity = { identityType: 'WIX_USER', wixUserId: userId };
      let at = installedAt;
      let firstReceived = 0;
      let lastReceived = 0;
      let removedAt: number | null = null;
      let product: string | null = null;
      let cycle: string | null = null;
      let expiresOn: string | null = null;
      let autoRenewing: number | null = null;
      let planChangedAt: number | null = null;
      for (let e = 0; e < eventCount; e++) {
        let eventType: string;
        let data: Record<string, unknown>;
        if (e === 0) {
          eventType = 'AppInstalled';
          data = { appId, originInstanceId: origin };
        } else if (removed && e === eventCount - 1) {
          eventType = 'AppRemoved';
          data = { appId };
          removedAt = at;
        } else {
          eventType = PLAN_SEQUENCE[(e - 1) % PLAN_SEQUENCE.length]!;
          product = PRODUCTS[(i + e) % PRODUCTS.length]!;
          cycle = CYCLES[(i + e) % CYCLES.length]!;
          expiresOn = new Date(at + (cycle === 'YEARLY' ? 365 : 30) * 86_400_000).toISOString();
          data = { operationTimeStamp: new Date(at).toISOString(), vendorProductId: product, cycle, expiresOn };
          autoRenewing = eventType === 'PaidPlanAutoRenewalCancelled' ? 0 : 1;
          planChangedAt = at;
        }
        const receivedAt = at + 150 + Math.floor(random() * 1500);
        if (e === 0) firstReceived = receivedAt;
        lastReceived = receivedAt;
        deliveryId++;
        const seal = createHash('sha256').update(`${instanceId}:${e}:${deliveryId}`).digest('hex');
        insertDelivery.run(deliveryId, seal, `bench.${seal.slice(0, 43)}.seeded`, eventType, instanceId, at, receivedAt);
        insertEvent.run(deliveryId, deliveryId, instanceId, eventType, at, receivedAt, JSON.stringify({ data, identity, accountInfo }));
        if (e < eventCount - 1) at += 60_000 + Math.floor(random() * 30 * 86_400_000);
      }
      const synced = i % 4 !== 0;
      const short = instanceId.slice(0, 8);
      insertInstallation.run(
        instanceId,
        appId,
        removed ? 'removed' : 'active',
        installedAt,
        removedAt,
        origin || null,
        at,
        firstReceived,
        lastReceived,
        !removed && i % 3 === 0 ? firstReceived + 5_000 : null,
        product,
        cycle,
        expiresOn,
        autoRenewing,
        planChangedAt,
        siteId,
        accountId,
        synced ? `Site ${short}` : null,
        synced && i % 2 === 0 ? `https://site-${short}.wixsite.com/site` : null,
        synced ? '1.4.0' : null,
        synced ? (product ? 0 : 1) : null,
        synced ? firstReceived + 2_000 : null,
      );
    }
  });
  for (let from = 0; from < scale.installations; from += BATCH) {
    insertBatch(from, Math.min(scale.installations, from + BATCH));
    if ((from / BATCH) % 10 === 9) log(`  ${(from + BATCH).toLocaleString('en-US')} installations…`);
    // Let signals (Ctrl-C) through between batches.
    await new Promise((r) => setImmediate(r));
  }
  log('  re-creating indexes…');
  for (const index of indexes) db.exec(index.sql);
  db.pragma('journal_mode = WAL');
  db.close();
  renameSync(partial, path);
  const seconds = (performance.now() - started) / 1000;
  log(`  seeded in ${seconds.toFixed(0)} s`);
  return { path, cached: false, seconds, sizeMb: statSync(path).size / 1048576, counts: countRows(path) };
}

function countRows(path: string): SeededDatabase['counts'] {
  const db = new Database(path, { readonly: true });
  try {
    const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      installations: n('SELECT count(*) AS n FROM installations'),
      active: n(`SELECT count(*) AS n FROM installations WHERE status = 'active'`),
      removed: n(`SELECT count(*) AS n FROM installations WHERE status = 'removed'`),
      events: n('SELECT count(*) AS n FROM installation_events'),
      deliveries: n('SELECT count(*) AS n FROM deliveries'),
    };
  } finally {
    db.close();
  }
}

/** Random real rows: ids for GET /v1/installations/:id and (installedAt, id) for deep cursors. */
export function sampleRows(path: string, count: number, seed: number): { instanceId: string; installedAt: number }[] {
  const db = new Database(path, { readonly: true });
  try {
    const max = (db.prepare('SELECT max(rowid) AS n FROM installations').get() as { n: number }).n;
    const byRowid = db.prepare('SELECT instance_id AS instanceId, installed_at AS installedAt FROM installations WHERE rowid = ?');
    const random = prng(seed);
    const rows: { instanceId: string; installedAt: number }[] = [];
    while (rows.length < count) {
      const row = byRowid.get(1 + Math.floor(random() * max)) as { instanceId: string; installedAt: number } | undefined;
      if (row) rows.push(row);
    }
    return rows;
  } finally {
    db.close();
  }
}
