import { randomBytes } from 'node:crypto';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.ts';
import { createSharedTokens } from '../../src/db/postgres/shared-tokens.ts';
import { createLogger } from '../../src/logger.ts';
import { createTokenBroker, TOKEN_REFRESH_MARGIN_MS, type TokenBroker } from '../../src/wix/token-broker.ts';
import { createTokenSealer } from '../../src/wix/token-sealing.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { TEST_APP_ID, TEST_APP_SECRET } from '../helpers/registry.ts';

// Issue 9: "Wix sees at most one token request per instance per token lifetime across all
// replicas." Two brokers stand for two replicas: each with its own pool and its own cache, on one
// scratch PostgreSQL database migrated from migrations/postgres, against the fake Wix over HTTP.

/** The server the scratch database is made on (TEST_POSTGRES_URL, as the rest of the PostgreSQL tests), by a user who may CREATE DATABASE. */
const ADMIN_URL = process.env.TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const urlOf = (database: string) => {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
};
const DATABASE = `wixreg_pgtokens_${randomBytes(6).toString('hex')}`;
const FOUR_HOURS_MS = 14_400_000;

let wix: RunningFakeWix;
const pools: pg.Pool[] = [];
/** A connection of the test's own, to look at and arrange rows as an operator would. */
let inspect: pg.Pool;

function openPool(database = DATABASE, max = 5): pg.Pool {
  const pool = new pg.Pool({ connectionString: urlOf(database), max });
  pool.on('error', () => {}); // idle clients of a pool to a dropped database
  pools.push(pool);
  return pool;
}

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  inspect = openPool();
  await migrate(drizzle(inspect), { migrationsFolder: 'migrations/postgres' });
  wix = await startFakeWix();
});

afterAll(async () => {
  await wix?.close();
  await Promise.all(pools.map((pool) => pool.end()));
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.end();
});

beforeEach(async () => {
  wix.fake.calls.length = 0;
  wix.fake.clearFaults();
  await inspect.query('DELETE FROM access_tokens');
});

const clock = createManualClock(Date.UTC(2026, 10, 1));

/** Warn lines of a replica's log, parsed. */
function captureWarnings() {
  const lines: { msg: string; instanceId?: string }[] = [];
  const logger = createLogger('warn', { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
  return { lines, logger };
}

/** One "replica": its own pool, its own broker (and so its own cache), the same database. */
function replica(options: { appSecret?: string; lockWaitMs?: number; database?: string; poolSize?: number } = {}) {
  const { lines, logger } = captureWarnings();
  const broker = createTokenBroker({
    appId: TEST_APP_ID,
    appSecret: options.appSecret ?? TEST_APP_SECRET,
    wixApiBaseUrl: wix.url,
    clock,
    instanceStatus: async () => 'active',
    timeoutMs: 2_000,
    sharedTokens: createSharedTokens(
      openPool(options.database, options.poolSize),
      options.lockWaitMs ? { lockWaitMs: options.lockWaitMs } : {},
    ),
    logger,
  });
  return { broker, warnings: lines };
}

const tokenRequestsFor = (instanceId: string) =>
  wix.fake.callsTo('token').filter((c) => (c.body as { instance_id: string }).instance_id === instanceId);

async function rowOf(instanceId: string) {
  const { rows } = await inspect.query<{ instance_id: string; sealed: string; key_id: string; expires_at: string; updated_at: string }>(
    'SELECT * FROM access_tokens WHERE instance_id = $1',
    [instanceId],
  );
  return rows[0];
}

/** `count` calls for each instance, alternating between the brokers, all at once. */
function spread(brokers: TokenBroker[], instanceIds: string[], count: number) {
  return Promise.all(
    Array.from({ length: count }, (_, i) => {
      const instanceId = instanceIds[i % instanceIds.length] as string;
      const broker = brokers[Math.floor(i / instanceIds.length) % brokers.length] as TokenBroker;
      return broker.getAccessToken(instanceId).then((token) => ({ instanceId, token: token.token }));
    }),
  );
}

/** Holds Wix's answers to the next `count` token requests for a moment, so that both replicas are surely waiting meanwhile. */
function slowTokenAnswers(count: number) {
  for (let i = 0; i < count; i++) wix.fake.fail('token', { kind: 'delay', ms: 100 });
}

describe('shared token row on PostgreSQL: two replicas, one Wix request per instance per token lifetime', () => {
  it('50 concurrent requests for 5 instances over both replicas: one Wix request per instance, one token each', async () => {
    const a = replica();
    const b = replica();
    const instances = ['inst-a', 'inst-b', 'inst-c', 'inst-d', 'inst-e'];
    slowTokenAnswers(10);
    const answers = await spread([a.broker, b.broker], instances, 50);

    for (const instanceId of instances) {
      expect(tokenRequestsFor(instanceId)).toHaveLength(1);
      expect(new Set(answers.filter((x) => x.instanceId === instanceId).map((x) => x.token)).size).toBe(1);
    }
    expect(a.broker.upstreamRequests + b.broker.upstreamRequests).toBe(5);
    expect(a.warnings).toEqual([]);
    expect(b.warnings).toEqual([]);
  });

  it('a burst of misses for more instances than connections waits its turn: still one Wix request each, no fallback', async () => {
    // Pools of 2 with a pg-pool wait of 50 ms: the callers queue in createSharedTokens, not in the pool.
    const narrow = () => {
      const pool = openPool(DATABASE, 2);
      pool.options.connectionTimeoutMillis = 50;
      return pool;
    };
    const { lines: warnings, logger } = captureWarnings();
    const brokers = [narrow(), narrow()].map((pool) =>
      createTokenBroker({
        appId: TEST_APP_ID,
        appSecret: TEST_APP_SECRET,
        wixApiBaseUrl: wix.url,
        clock,
        instanceStatus: async () => 'active',
        sharedTokens: createSharedTokens(pool),
        logger,
      }),
    );
    const instances = Array.from({ length: 12 }, (_, i) => `inst-burst-${i}`);
    slowTokenAnswers(24);
    await spread(brokers, instances, 48);
    for (const instanceId of instances) expect(tokenRequestsFor(instanceId)).toHaveLength(1);
    expect(warnings).toEqual([]);
  });

  it('a row near expiry is refreshed exactly once across both replicas, and both move to the new token', async () => {
    const a = replica();
    const b = replica();
    const first = await a.broker.getAccessToken('inst-r');
    expect((await b.broker.getAccessToken('inst-r')).token).toBe(first.token); // from the row, not from Wix
    expect(tokenRequestsFor('inst-r')).toHaveLength(1);

    clock.set(first.expiresAt - TOKEN_REFRESH_MARGIN_MS); // stale in both caches and in the row
    slowTokenAnswers(2);
    const answers = await spread([a.broker, b.broker], ['inst-r'], 40);
    expect(tokenRequestsFor('inst-r')).toHaveLength(2);
    expect(new Set(answers.map((x) => x.token)).size).toBe(1);
    expect(answers[0]?.token).not.toBe(first.token);
  });

  it('a row left by another replica is used as it is while valid, and refreshed once when near expiry', async () => {
    const sealer = createTokenSealer(TEST_APP_SECRET);
    const seed = async (instanceId: string, token: string, expiresAt: number) => {
      const row = sealer.seal(instanceId, { token, expiresAt });
      await inspect.query('INSERT INTO access_tokens VALUES ($1, $2, $3, $4, $5)', [
        instanceId,
        row.sealed,
        row.keyId,
        row.expiresAt,
        clock.now(),
      ]);
    };
    await seed('inst-valid', 'OauthNG.JWS.left-by-another-replica', clock.now() + FOUR_HOURS_MS);
    await seed('inst-near', 'OauthNG.JWS.about-to-expire', clock.now() + TOKEN_REFRESH_MARGIN_MS - 1);
    const a = replica();
    const b = replica();

    const valid = await spread([a.broker, b.broker], ['inst-valid'], 10);
    expect(valid.every((x) => x.token === 'OauthNG.JWS.left-by-another-replica')).toBe(true);
    expect(tokenRequestsFor('inst-valid')).toHaveLength(0);

    slowTokenAnswers(1);
    const near = await spread([a.broker, b.broker], ['inst-near'], 10);
    expect(tokenRequestsFor('inst-near')).toHaveLength(1);
    expect(new Set(near.map((x) => x.token)).size).toBe(1);
    expect(near[0]?.token).toMatch(/^OauthNG\.JWS\./);
    expect(near[0]?.token).not.toBe('OauthNG.JWS.about-to-expire');
  });

  it('the token is not in the table in clear', async () => {
    const { broker } = replica();
    const { token, expiresAt } = await broker.getAccessToken('inst-secret');
    const row = await rowOf('inst-secret');
    expect(row).toBeDefined();
    expect(JSON.stringify(row)).not.toContain(token);
    expect(JSON.stringify(row)).not.toContain(token.slice('OauthNG.JWS.'.length));
    expect(row?.key_id).toBe(createTokenSealer(TEST_APP_SECRET).keyId);
    expect(Number(row?.expires_at)).toBe(expiresAt);
    expect(Number(row?.updated_at)).toBe(clock.now());
  });

  it('after the app secret rotates, a row sealed with the old key is read as missing (no error) and replaced', async () => {
    const oldKey = createTokenSealer('the-app-secret-before-rotation-0123');
    const row = oldKey.seal('inst-rotate', { token: 'OauthNG.JWS.sealed-with-the-old-key', expiresAt: clock.now() + FOUR_HOURS_MS });
    await inspect.query('INSERT INTO access_tokens VALUES ($1, $2, $3, $4, $5)', [
      'inst-rotate',
      row.sealed,
      row.keyId,
      row.expiresAt,
      clock.now(),
    ]);
    const { broker, warnings } = replica();

    const token = await broker.getAccessToken('inst-rotate');
    expect(token.token).not.toBe('OauthNG.JWS.sealed-with-the-old-key');
    expect(tokenRequestsFor('inst-rotate')).toHaveLength(1);
    expect(warnings).toEqual([]);
    const current = createTokenSealer(TEST_APP_SECRET);
    expect(current.keyId).not.toBe(oldKey.keyId);
    expect((await rowOf('inst-rotate'))?.key_id).toBe(current.keyId);
  });

  it('a Wix failure under the lock is the answer: no second request without the row, nothing stored', async () => {
    const { broker, warnings } = replica();
    wix.fake.fail('token', { kind: 'status', status: 503 });
    await expect(broker.getAccessToken('inst-503')).rejects.toMatchObject({ kind: 'unavailable' });
    expect(tokenRequestsFor('inst-503')).toHaveLength(1);
    expect(await rowOf('inst-503')).toBeUndefined();
    expect(warnings).toEqual([]);
  });
});

describe('invalidate (401) and forget (removal) clear the shared row', () => {
  it('a rejected token is cleared from the row, so the other replica gets a new one too', async () => {
    const a = replica();
    const b = replica();
    const rejected = await a.broker.getAccessToken('inst-401');
    a.broker.invalidate('inst-401', rejected.token);
    await a.broker.settled();
    expect(await rowOf('inst-401')).toBeUndefined();

    const fresh = await b.broker.getAccessToken('inst-401');
    expect(fresh.token).not.toBe(rejected.token);
    expect((await a.broker.getAccessToken('inst-401')).token).toBe(fresh.token);
    expect(tokenRequestsFor('inst-401')).toHaveLength(2);
  });

  it('a late 401 for a token already replaced leaves the row holding its successor', async () => {
    const a = replica();
    const b = replica();
    const old = await a.broker.getAccessToken('inst-late');
    a.broker.invalidate('inst-late', old.token);
    const replacement = await a.broker.getAccessToken('inst-late'); // waits for the clear, then asks Wix
    expect(replacement.token).not.toBe(old.token);

    b.broker.invalidate('inst-late', old.token); // replica b saw the old token rejected too, later
    await b.broker.settled();
    expect(await rowOf('inst-late')).toBeDefined();
    expect((await b.broker.getAccessToken('inst-late')).token).toBe(replacement.token);
    expect(tokenRequestsFor('inst-late')).toHaveLength(2);
  });

  it('forget removes the row', async () => {
    const { broker } = replica();
    await broker.getAccessToken('inst-removed');
    expect(await rowOf('inst-removed')).toBeDefined();
    broker.forget('inst-removed');
    await broker.settled();
    expect(await rowOf('inst-removed')).toBeUndefined();
  });
});

describe('the shared row failing never stops tokens', () => {
  it('a database that cannot be reached: tokens come straight from Wix, with a warning', async () => {
    const { broker, warnings } = replica({ database: `${DATABASE}_missing` });
    const token = await broker.getAccessToken('inst-nodb');
    expect(token.token).toMatch(/^OauthNG\.JWS\./);
    expect(tokenRequestsFor('inst-nodb')).toHaveLength(1);
    expect(warnings.map((w) => [w.msg, w.instanceId])).toEqual([
      ['token broker: the shared token row failed; asking Wix without it', 'inst-nodb'],
    ]);
  });

  it('a lock held past lockWaitMs (a stuck holder): the waiter asks Wix itself, with a warning', async () => {
    const holder = await inspect.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT pg_advisory_xact_lock(hashtextextended('wix-registry:token:' || $1, 0))`, ['inst-stuck']);
      const { broker, warnings } = replica({ lockWaitMs: 100 });
      const token = await broker.getAccessToken('inst-stuck');
      expect(token.token).toMatch(/^OauthNG\.JWS\./);
      expect(tokenRequestsFor('inst-stuck')).toHaveLength(1);
      expect(warnings.map((w) => w.msg)).toEqual(['token broker: the shared token row failed; asking Wix without it']);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect(await rowOf('inst-stuck')).toBeUndefined();
  });

  it('a row that cannot be written: the token Wix issued is used, not asked for again', async () => {
    const { broker, warnings } = replica();
    // An operator's constraint stands in for a write the database refuses.
    await inspect.query(`ALTER TABLE access_tokens ADD CONSTRAINT test_refuse_writes CHECK (instance_id <> 'inst-readonly')`);
    try {
      const token = await broker.getAccessToken('inst-readonly');
      expect(token.token).toMatch(/^OauthNG\.JWS\./);
      expect(tokenRequestsFor('inst-readonly')).toHaveLength(1);
      expect(warnings.map((w) => w.msg)).toEqual(['token broker: the shared token row failed; asking Wix without it']);
    } finally {
      await inspect.query('ALTER TABLE access_tokens DROP CONSTRAINT test_refuse_writes');
    }
  });
});
