import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WriteCommand } from '../../src/db/commands.ts';
import { createPools, guardReads } from '../../src/db/postgres/connection.ts';
import { POSTGRES_MIGRATIONS_DIR } from '../../src/db/postgres/migrate.ts';
import { openPostgresStore, type PostgresStoreOptions } from '../../src/db/postgres/store.ts';
import { StorageBusyError, StorageUnavailableError, type RegistryStore, type StoreReads } from '../../src/db/store.ts';
import { sha256Hex } from '../../src/webhooks/ingest.ts';
import { postgresUrlFor, scratchDatabasePrefix, testPostgresUrl } from '../helpers/engine.ts';

/**
 * The PostgreSQL store's write side as several replicas see it: each store here is what one
 * registry process opens, all on one scratch database (created for this file, dropped after).
 * Only writes and raw SQL through the test's own connection: the reads are another part's.
 */

// The postgres project of vitest.config.ts runs this file, on the server it found (TEST_POSTGRES_URL).
const ADMIN_URL = testPostgresUrl();

const T0 = Date.UTC(2026, 10, 1, 12);

/** An ingest command for a Wix event, its JWT unique to (instance, type, iat) as Wix's would be. */
function ingest(instanceId: string, eventType: string, iatMs: number, receivedAt = T0): WriteCommand {
  const jwt = `test.${Buffer.from(`${instanceId}|${eventType}|${iatMs}`).toString('base64url')}.sig`;
  return {
    kind: 'ingest',
    delivery: { jwt, event: { eventType, instanceId, issuedAt: iatMs, data: {}, identity: undefined, accountInfo: undefined } },
    sha256: sha256Hex(jwt),
    receivedAt,
  };
}

describe('PostgreSQL store: several replicas on one database', () => {
  // Empty, not a copy of the run's migrated template: the first test is about migrating it.
  const database = `${scratchDatabasePrefix()}store_${randomBytes(6).toString('hex')}`;
  const url = postgresUrlFor(ADMIN_URL, database);
  let admin: pg.Client;
  let sql: pg.Client;
  const opened: RegistryStore[] = [];

  async function open(options: PostgresStoreOptions = {}): Promise<RegistryStore> {
    const store = await openPostgresStore(url, options);
    opened.push(store);
    return store;
  }
  const one = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T> =>
    (await sql.query<T>(text, values)).rows[0]!;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });
  afterAll(async () => {
    await sql?.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  it('three stores opened at once on an empty database all come up, and the migrations are applied once', async () => {
    const stores = await Promise.all([open(), open(), open()]);
    expect(stores.map((s) => s.engine)).toEqual(['postgres', 'postgres', 'postgres']);
    expect(stores.every((s) => s.isReady())).toBe(true);
    expect(stores[0].location).toBe(url);
    sql = new pg.Client({ connectionString: url });
    await sql.connect();
    const journal = JSON.parse(readFileSync(join(POSTGRES_MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
    expect(await one('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')).toEqual({ n: journal.entries.length });
    // The custom migration's seed rows would be doubled by a second run (or it would have failed).
    expect(await one('SELECT count(*)::int AS n FROM registry_counters')).toEqual({ n: 7 });
  });

  it('the same delivery written through two stores at once: one accepted, one duplicate, stored once', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    const commands = Array.from({ length: 40 }, (_, i) => ingest(`dup-${i}`, 'AppInstalled', T0 - 60_000 + i));
    const results = await Promise.all(commands.map((command) => Promise.all([a.write(command), b.write(command)])));
    for (const pair of results) {
      expect(pair.map((r) => (r as { status: string }).status).sort()).toEqual(['accepted', 'duplicate']);
    }
    expect(await one(`SELECT count(*)::int AS n FROM deliveries WHERE instance_id LIKE 'dup-%'`)).toEqual({ n: 40 });
    expect(
      await one(
        `SELECT count(*)::int AS n FROM delivery_jwts j JOIN deliveries d ON d.id = j.delivery_id WHERE d.instance_id LIKE 'dup-%'`,
      ),
    ).toEqual({ n: 40 });
    // One installation each, counted once by the triggers' counters.
    expect(await one(`SELECT count(*)::int AS n FROM installations WHERE instance_id LIKE 'dup-%' AND status = 'active'`)).toEqual({
      n: 40,
    });
    const counted = await one<{ value: number }>(`SELECT value FROM registry_counters WHERE name = 'installations.active'`);
    const actual = await one<{ n: number }>(`SELECT count(*)::int AS n FROM installations WHERE status = 'active'`);
    expect(counted.value).toBe(actual.n);
  });

  it('events of one instance written at once through two stores end in the state the newest iat says, every time', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    for (let round = 0; round < 25; round++) {
      const instanceId = `race-${round}`;
      const events = Array.from({ length: 6 }, (_, i) =>
        ingest(instanceId, i % 2 === 0 ? 'AppInstalled' : 'AppRemoved', T0 - 600_000 + i * 1_000),
      );
      // Shuffled, and spread over both stores: which one commits first is up to the race.
      const shuffled = events.map((e) => ({ e, key: Math.random() })).sort((x, y) => x.key - y.key);
      const newest = events[(round % 3) + 3]!;
      const sent = shuffled.filter(
        ({ e }) => (e.kind === 'ingest' ? e.delivery.event.issuedAt : 0) <= (newest.kind === 'ingest' ? newest.delivery.event.issuedAt : 0),
      );
      await Promise.all(sent.map(({ e }, i) => (i % 2 === 0 ? a : b).write(e)));
      const row = await one<{ status: string; last_event_at: number }>(
        'SELECT status, last_event_at FROM installations WHERE instance_id = $1',
        [instanceId],
      );
      const newestEvent = newest.kind === 'ingest' ? newest.delivery.event : null;
      expect(row).toEqual({
        status: newestEvent!.eventType === 'AppInstalled' ? 'active' : 'removed',
        last_event_at: newestEvent!.issuedAt,
      });
    }
    // The change feed's positions commit in order: the last change of each instance describes its final state.
    const mismatched = await one<{ n: number }>(
      `SELECT count(*)::int AS n FROM installations i
       JOIN LATERAL (SELECT installation FROM changes c WHERE c.instance_id = i.instance_id ORDER BY position DESC LIMIT 1) last ON true
       WHERE i.instance_id LIKE 'race-%' AND (last.installation->>'status') <> i.status`,
    );
    expect(mismatched.n).toBe(0);
  });

  it('the commands written in one event-loop turn are one transaction; a failing one is rolled back alone', async () => {
    const store = await open({ listen: false });
    const commits: number[] = [];
    store.observeCommits((commands) => commits.push(commands));
    // The failing command sits mid-batch: the ones after it still commit.
    const session = { idHash: `batch-${randomBytes(4).toString('hex')}`, apiKeyId: 'key-batch', createdAt: T0, expiresAt: T0 + 1 };
    const first = store.write({ kind: 'createSession', session });
    const again = store.write({ kind: 'createSession', session });
    const handouts = Array.from({ length: 60 }, (_, i) =>
      store.write({
        kind: 'tokenHandout',
        row: { apiKeyId: 'key-batch', instanceId: `batch-${i}`, requestedAt: T0 + i, outcome: 'issued' },
      }),
    );
    await Promise.all([...handouts, first]);
    await expect(again).rejects.toMatchObject({ code: '23505' });
    expect(commits).toEqual([62]);
    expect(await one(`SELECT count(*)::int AS n FROM token_handouts WHERE api_key_id = 'key-batch'`)).toEqual({ n: 60 });
    expect(await one('SELECT count(*)::int AS n FROM dashboard_sessions WHERE id_hash = $1', [session.idHash])).toEqual({ n: 1 });
  });

  it('claims through two stores never hand out the same job', async () => {
    const [a, b] = await Promise.all([open({ listen: false }), open({ listen: false })]);
    await Promise.all(Array.from({ length: 150 }, (_, i) => a.write(ingest(`claim-${i}`, 'AppInstalled', T0 - 3_600_000 + i))));
    const due = await one<{ n: number }>(`SELECT count(*)::int AS n FROM outbox_jobs WHERE status = 'pending' AND change_position IS NULL`);
    expect(due.n).toBeGreaterThanOrEqual(150);
    const claimed: number[] = [];
    const claimUntilEmpty = async (store: RegistryStore) => {
      for (;;) {
        const jobs = await store.write({ kind: 'claimJobs', now: T0, limit: 7, leaseMs: 60_000 });
        if (jobs.length === 0) return;
        claimed.push(...jobs.map((job) => job.id));
      }
    };
    await Promise.all([claimUntilEmpty(a), claimUntilEmpty(b), claimUntilEmpty(a), claimUntilEmpty(b)]);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.length).toBe(due.n);
  });

  it('push claims through two stores hand out each change once, and the changes of an instance one after another, in order', async () => {
    const [a, b] = await Promise.all([open({ listen: false }), open({ listen: false })]);
    const endpoint = 'https://receiver.example/changes';
    await a.write({ kind: 'configurePushEndpoints', urls: [endpoint], now: T0 });
    // Three changes per instance: installed, removed, installed again.
    for (let step = 0; step < 3; step++) {
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 ? a : b).write(ingest(`push-${i}`, step === 1 ? 'AppRemoved' : 'AppInstalled', T0 - 7_200_000 + step * 1_000)),
        ),
      );
    }
    const total = (await one<{ n: number }>('SELECT count(*)::int AS n FROM outbox_jobs WHERE endpoint = $1', [endpoint])).n;
    expect(total).toBe(36);
    const delivered = new Map<string, number[]>();
    const claimed: number[] = [];
    const worker = async (store: RegistryStore) => {
      for (let idle = 0; idle < 3;) {
        const jobs = await store.write({ kind: 'claimJobs', now: T0, limit: 4, leaseMs: 60_000, endpoint });
        idle = jobs.length === 0 ? idle + 1 : 0;
        for (const job of jobs) {
          claimed.push(job.id);
          await store.write({ kind: 'finishJob', job, effect: null, now: T0 });
          delivered.set(job.instanceId, [...(delivered.get(job.instanceId) ?? []), job.changePosition!]);
        }
        if (jobs.length === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    };
    await Promise.all([worker(a), worker(b), worker(a), worker(b)]);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.length).toBe(total);
    for (const positions of delivered.values()) expect(positions).toEqual([...positions].sort((x, y) => x - y));
    expect(await one('SELECT delivered::int FROM push_endpoints WHERE url = $1', [endpoint])).toEqual({ delivered: 36 });
  });

  it('a new store recovers only the running jobs whose lease lapsed, never one a live replica holds', async () => {
    const live = await open({ listen: false });
    await live.write(ingest('lease-held', 'AppInstalled', T0 - 1_000));
    await live.write(ingest('lease-lapsed', 'AppInstalled', T0 - 1_000));
    await sql.query(
      `UPDATE outbox_jobs SET status = 'done' WHERE status = 'pending' AND instance_id NOT IN ('lease-held', 'lease-lapsed')`,
    );
    await sql.query(`UPDATE outbox_jobs SET status = 'running', lease_until = $1 WHERE instance_id = 'lease-held'`, [T0 + 60_000]);
    await sql.query(`UPDATE outbox_jobs SET status = 'running', lease_until = $1 WHERE instance_id = 'lease-lapsed'`, [T0 - 1]);
    const starting = await open({ listen: false });
    const recovered = await starting.write({ kind: 'recoverJobs', now: T0 });
    const lapsed = await one<{ n: number }>(`SELECT count(*)::int AS n FROM outbox_jobs WHERE instance_id = 'lease-lapsed'`);
    expect(recovered).toBe(lapsed.n);
    expect(await one(`SELECT count(*)::int AS n FROM outbox_jobs WHERE instance_id = 'lease-held' AND status = 'running'`)).toEqual({
      n: await heldCount(),
    });
    expect(await one(`SELECT count(*)::int AS n FROM outbox_jobs WHERE instance_id = 'lease-lapsed' AND status = 'pending'`)).toEqual(
      lapsed,
    );
    // While running, a lapsed lease is claimed again too; a live one is not.
    await sql.query(`UPDATE outbox_jobs SET status = 'running', lease_until = $1 WHERE instance_id = 'lease-lapsed'`, [T0 - 1]);
    const reclaimed = await starting.write({ kind: 'claimJobs', now: T0, limit: 100, leaseMs: 60_000 });
    expect(new Set(reclaimed.map((job) => job.instanceId))).toEqual(new Set(['lease-lapsed']));

    async function heldCount(): Promise<number> {
      return (await one<{ n: number }>(`SELECT count(*)::int AS n FROM outbox_jobs WHERE instance_id = 'lease-held'`)).n;
    }
  });

  it('a change committed through one store wakes the subscribers of another (LISTEN/NOTIFY)', async () => {
    const [listening, writing] = await Promise.all([open(), open({ listen: false })]);
    const before = (await one<{ last: number }>('SELECT coalesce(max(position), 0)::int AS last FROM changes')).last;
    const heard = new Promise<number>((resolve) => {
      listening.changes.subscribe(({ position }) => {
        if (position > before) resolve(position);
      });
    });
    await writing.write(ingest('notify-1', 'AppInstalled', T0 - 5_000));
    const position = await heard;
    const change = await one<{ instance_id: string }>('SELECT instance_id FROM changes WHERE position = $1', [position]);
    expect(change.instance_id).toBe('notify-1');
  });

  it('a connection lost mid-batch rejects the whole batch with StorageUnavailableError, and nothing of it is written', async () => {
    const store = await open({ listen: false });
    await store.write({ kind: 'tokenHandout', row: { apiKeyId: 'warm', instanceId: 'warm', requestedAt: T0, outcome: 'issued' } });
    // The test holds instance down-b's lock: the batch writes down-a (sorted first), then waits on down-b.
    await sql.query(`SELECT pg_advisory_lock(hashtextextended('wix-registry:instance:' || $1::text, 0))`, ['down-b']);
    const batch = [store.write(ingest('down-a', 'AppInstalled', T0 - 9_000)), store.write(ingest('down-b', 'AppInstalled', T0 - 9_000))];
    let writerPid: number | undefined;
    while (writerPid === undefined) {
      const { rows } = await sql.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'wix-registry writer' AND wait_event_type = 'Lock'`,
      );
      writerPid = rows[0]?.pid;
    }
    await sql.query('SELECT pg_terminate_backend($1)', [writerPid]);
    const outcomes = await Promise.allSettled(batch);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(StorageUnavailableError);
    }
    await sql.query('SELECT pg_advisory_unlock_all()');
    expect(await one(`SELECT count(*)::int AS n FROM deliveries WHERE instance_id IN ('down-a', 'down-b')`)).toEqual({ n: 0 });
    expect(await one(`SELECT count(*)::int AS n FROM installations WHERE instance_id IN ('down-a', 'down-b')`)).toEqual({ n: 0 });
    // The store goes on with a new connection: Wix's resend is accepted.
    await expect(store.write(ingest('down-a', 'AppInstalled', T0 - 9_000))).resolves.toMatchObject({ status: 'accepted' });
  });
});

describe('PostgreSQL reads: the wait for a connection', () => {
  it('refuses a read that waited too long for a connection with StorageBusyError (503, Retry-After), as SQLite does', async () => {
    const pools = createPools(ADMIN_URL, { readPoolSize: 1, readQueueMaxWaitMs: 50 });
    const reads = guardReads(
      { outbox: { counts: async () => (await pools.read.query<{ n: number }>('SELECT 1::int AS n')).rows[0] } } as unknown as StoreReads,
      pools.read,
      pools.readQueueMaxLength,
    );
    try {
      // The only connection is taken: the read waits, past its limit.
      const held = await pools.read.connect();
      const refused = reads.outbox.counts();
      await expect(refused).rejects.toBeInstanceOf(StorageBusyError);
      await expect(refused).rejects.toMatchObject({ retryAfterSec: 1 });
      held.release();
      await expect(reads.outbox.counts()).resolves.toEqual({ n: 1 });
    } finally {
      await pools.end();
    }
  });

  it('maps a read that fails because the database is gone to StorageUnavailableError', async () => {
    const pools = createPools('postgres://postgres@127.0.0.1:1/registry', { readPoolSize: 1 });
    const reads = guardReads(
      { outbox: { counts: () => pools.read.query('SELECT 1') } } as unknown as StoreReads,
      pools.read,
      pools.readQueueMaxLength,
    );
    try {
      await expect(reads.outbox.counts()).rejects.toBeInstanceOf(StorageUnavailableError);
    } finally {
      await pools.end();
    }
  });
});

describe('PostgreSQL store: a server out of connections', () => {
  const role = `${scratchDatabasePrefix()}full_${randomBytes(4).toString('hex')}`;
  let admin: pg.Client;
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    // A role allowed no connection: the server answers 53300 (too many connections), as a full one does.
    await admin.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 0`);
  });
  afterAll(async () => {
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  it('is StorageUnavailableError (503), with the SQLSTATE', async () => {
    const url = new URL(ADMIN_URL);
    url.username = role;
    const opening = openPostgresStore(url.toString());
    await expect(opening).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(opening).rejects.toMatchObject({ code: '53300' });
  });
});

describe('PostgreSQL store: a database that cannot be reached', () => {
  // Port 1 on this machine: nothing listens there, the connection is refused at once.
  const unreachable = 'postgres://postgres:not-shown@127.0.0.1:1/registry';

  it('refuses to open (migrations cannot run) with StorageUnavailableError', async () => {
    const opening = openPostgresStore(unreachable);
    await expect(opening).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(opening).rejects.not.toThrow(/not-shown/);
  });

  it('rejects writes with StorageUnavailableError when the database goes away after opening', async () => {
    const store = await openPostgresStore(unreachable, { migrate: false, listen: false });
    try {
      await expect(store.write(ingest('nowhere', 'AppInstalled', T0))).rejects.toBeInstanceOf(StorageUnavailableError);
      expect(store.location).toBe('postgres://postgres@127.0.0.1:1/registry');
    } finally {
      await store.close();
    }
  });
});
