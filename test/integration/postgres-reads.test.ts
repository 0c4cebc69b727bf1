import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseDatabaseUrl } from '../../src/db/database-url.ts';
import { migrateDatabase, openStore } from '../../src/db/open-store.ts';
import { createPostgresReads } from '../../src/db/postgres/reads/index.ts';
import type {
  InstallationListRequest,
  InstallationRowPage,
  RegistryStore,
  StoreReads,
  TokenHandoutListRequest,
  TokenHandoutRowPage,
} from '../../src/db/store.ts';
import type { InstallationFilters, InstallationOrdering, Position } from '../../src/installations/query-schemas.ts';
import { createPostgresScratchDatabase, dropPostgresScratchDatabase } from '../helpers/engine.ts';
import { BASE_MS, DAY_MS, generateSeed, seedPostgres, seedSqlite, type SeedData } from './postgres-reads-seed.ts';

/**
 * Agreement: the same rows in a SQLite registry database and in a PostgreSQL one, and every read
 * of the PostgreSQL store must answer exactly what the SQLite store answers (the reference).
 * Cursors are compared at every page, so a Position from either engine continues the other's walk.
 */

const EXPORT_PAGE_ROWS = 37;
/** The heavier walks: generous, since the whole battery shares two cores (no timing is asserted). */
const WALK_TIMEOUT_MS = 180_000;

// int8 as JS numbers, as src/db/postgres/connection.ts sets it for the store.
pg.types.setTypeParser(20, Number);

// Only in the postgres project (vitest.config.ts, POSTGRES_ONLY), which exists when PostgreSQL answers.
describe('PostgreSQL reads agree with SQLite reads', () => {
  let scratch: { name: string; url: string } | undefined;
  let pool: pg.Pool;
  let dir: string;
  let sqlite: RegistryStore;
  let postgres: StoreReads;
  let seed: SeedData;
  const empty: { sqlite: unknown[]; postgres: unknown[] } = { sqlite: [], postgres: [] };

  /** Reads with no data yet: first on each engine's empty database. */
  const emptyAnswers = (reads: StoreReads) =>
    Promise.all([
      reads.installations.counts(),
      reads.installations.newestActive(),
      reads.installations.page({ limit: 10, after: null }),
      reads.installations.dailySummary({ from: BASE_MS, to: BASE_MS + 2 * DAY_MS }),
      reads.outbox.counts(),
      reads.outbox.nextDueAt(),
      reads.changes.page(0, 10),
      reads.push.endpoints(),
      reads.audit.tokenHandouts({ limit: 5, after: null }),
    ]);

  beforeAll(async () => {
    scratch = await createPostgresScratchDatabase();
    // The project's own migration (a copy of the run's template is migrated already; this is then a no-op).
    await migrateDatabase(parseDatabaseUrl(scratch.url));
    pool = new pg.Pool({ connectionString: scratch.url, max: 4 });
    postgres = createPostgresReads(pool, { exportPageRows: EXPORT_PAGE_ROWS });

    dir = mkdtempSync(join(tmpdir(), 'wixreg-pgreads-'));
    const path = join(dir, 'registry.db');
    sqlite = await openStore(path, { threads: false, sqlite: { reads: { exportPageRows: EXPORT_PAGE_ROWS } } });

    empty.sqlite = await emptyAnswers(sqlite);
    empty.postgres = await emptyAnswers(postgres);

    seed = generateSeed(3_000);
    const db = new Database(path);
    try {
      seedSqlite(db, seed);
    } finally {
      db.close();
    }
    await seedPostgres(pool, seed);
  }, 120_000);

  afterAll(async () => {
    await sqlite?.close();
    await pool?.end();
    if (scratch) await dropPostgresScratchDatabase(scratch.name);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('an empty database reads the same', () => {
    expect(empty.postgres).toEqual(empty.sqlite);
  });

  /** Pages through the whole result on both engines, each page asked of both with the same cursor: how many rows. */
  async function walkBoth(request: Omit<InstallationListRequest, 'after'>): Promise<number> {
    let after: Position | null = null;
    let total = 0;
    for (let pages = 0; ; pages++) {
      const [expected, actual]: [InstallationRowPage, InstallationRowPage] = await Promise.all([
        sqlite.installations.page({ ...request, after }),
        postgres.installations.page({ ...request, after }),
      ]);
      const label = `${JSON.stringify(request)} page ${pages} after ${JSON.stringify(after)}`;
      expect(
        actual.rows.map((r) => r.instanceId),
        label,
      ).toEqual(expected.rows.map((r) => r.instanceId));
      expect(actual, label).toEqual(expected);
      total += expected.rows.length;
      if (!expected.next) return total;
      after = expected.next;
    }
  }

  const day = (n: number) => BASE_MS + n * DAY_MS;
  const FILTERS: InstallationFilters[] = [
    {},
    { status: 'active' },
    { status: 'removed' },
    { plan: 'paid' },
    { plan: 'free' },
    { plan: 'premium' },
    { plan: 'Pro_Plan' },
    { plan: 'no-such-product' },
    { installedFrom: day(20), installedTo: day(40) },
    { installedFrom: day(90) },
    { removedFrom: day(30) },
    { removedTo: day(25) },
    { removedFrom: day(10), removedTo: day(60), status: 'removed' },
    { status: 'active', removedFrom: day(10) },
    { q: 'bakery' },
    { q: 'BAKERY' },
    { q: 'café' },
    { q: 'CAFÉ' },
    { q: 'müller' },
    { q: '100%' },
    { q: '%' },
    { q: '_' },
    { q: 'snake_' },
    { q: 'inst_' },
    { q: '\\' },
    { q: 'back\\slash' },
    { q: "'" },
    { q: '"best"' },
    { q: 'k' },
    { q: 'kelvin k' },
    { q: 'a' },
    { q: 'ph' },
    { q: 'wixsite' },
    { q: 'natural https' },
    { q: 'Natural' },
    { q: 'line\nbreak' },
    { q: 'ü-' },
    { q: 'zzzzzz' },
    { status: 'active', plan: 'paid', q: 'studio' },
    { status: 'removed', plan: 'free', installedFrom: day(10), removedTo: day(80) },
    { plan: 'business', q: 'user1', installedTo: day(70) },
  ];
  const ORDERINGS: Required<InstallationOrdering>[] = (['installedAt', 'removedAt', 'updatedAt'] as const).flatMap((sort) =>
    (['desc', 'asc'] as const).map((order) => ({ sort, order })),
  );

  test.each(ORDERINGS)(
    'every filter, walked to the end by cursor: sort=$sort order=$order',
    async (ordering) => {
      const totals: number[] = [];
      for (const filters of FILTERS) totals.push(await walkBoth({ ...filters, ...ordering, limit: 150 }));
      expect(totals[0]).toBe(3_000);
      // Most filters match something: the agreement is not two empty answers.
      expect(totals.filter((n) => n > 0).length).toBeGreaterThan(FILTERS.length - 6);
    },
    WALK_TIMEOUT_MS,
  );

  test(
    'short pages across ties and the two parts of sort=removedAt',
    async () => {
      // A month of installs (about 230 rows) keeps the number of pages down.
      const month = { installedFrom: day(30), installedTo: day(60) };
      for (const ordering of ORDERINGS) {
        for (const filters of [
          { q: 'photo' },
          { plan: 'premium' },
          { q: 'natural' },
          // Searches whose index candidates are mostly not matches: the walk reads past them.
          { q: 'CAFÉ' },
          { q: 'natural https' },
        ]) {
          await walkBoth({ ...filters, ...month, ...ordering, limit: 3 });
        }
        await walkBoth({ ...ordering, limit: 1, installedFrom: day(50), installedTo: day(51) });
      }
    },
    WALK_TIMEOUT_MS,
  );

  test('a cursor with a null key (the rows without a removal time) continues on either engine', async () => {
    const first = await sqlite.installations.page({ sort: 'removedAt', order: 'desc', status: 'active', limit: 5, after: null });
    expect(first.next?.key).toBeNull();
    const [expected, actual] = await Promise.all([
      sqlite.installations.page({ sort: 'removedAt', order: 'desc', limit: 5, after: first.next }),
      postgres.installations.page({ sort: 'removedAt', order: 'desc', limit: 5, after: first.next }),
    ]);
    expect(actual).toEqual(expected);
  });

  async function chunks(reads: StoreReads, query: InstallationFilters & InstallationOrdering, format: 'ndjson' | 'csv') {
    const out: string[] = [];
    for await (const chunk of await reads.installations.exportChunks(query, format)) out.push(chunk);
    return out;
  }

  test(
    'exports: the same chunks, byte for byte, in both formats',
    async () => {
      const queries: (InstallationFilters & InstallationOrdering)[] = [
        {},
        { sort: 'removedAt', order: 'asc' },
        { q: 'café', sort: 'updatedAt' },
        { plan: 'paid', status: 'active', order: 'asc' },
        { q: 'zzzzzz' },
      ];
      for (const query of queries) {
        for (const format of ['ndjson', 'csv'] as const) {
          expect(await chunks(postgres, query, format), `${format} ${JSON.stringify(query)}`).toEqual(await chunks(sqlite, query, format));
        }
      }
      expect((await chunks(postgres, {}, 'ndjson')).join('').split('\n').length).toBe(3_001);
    },
    WALK_TIMEOUT_MS,
  );

  test('one installation, its status and history, counts, the newest active one', async () => {
    const ids = [...seed.instanceIds.slice(0, 80), 'no-such-instance'];
    for (const id of ids) {
      expect(await postgres.installations.get(id)).toEqual(await sqlite.installations.get(id));
      expect(await postgres.installations.status(id)).toEqual(await sqlite.installations.status(id));
      expect(await postgres.installations.history(id)).toEqual(await sqlite.installations.history(id));
    }
    expect(await postgres.installations.counts()).toEqual(await sqlite.installations.counts());
    expect(await postgres.installations.newestActive()).toEqual(await sqlite.installations.newestActive());
  });

  test('daily summary windows, inside, around and before the data', async () => {
    for (const [from, to] of [
      [day(-30), day(-1)],
      [day(-3), day(5)],
      [day(0), day(120)],
      [day(100), day(450)],
      [day(400), day(460)],
    ] as const) {
      expect(await postgres.installations.dailySummary({ from, to })).toEqual(await sqlite.installations.dailySummary({ from, to }));
    }
  });

  test('outbox: jobs, counters, open jobs per kind, next due time per lane', async () => {
    for (const filter of [
      {},
      { status: 'pending' as const },
      { status: 'dead' as const, limit: 7 },
      { instanceId: seed.instanceIds[3] },
      { limit: 1_000 },
    ]) {
      expect(await postgres.outbox.list(filter)).toEqual(await sqlite.outbox.list(filter));
    }
    expect(await postgres.outbox.counts()).toEqual(await sqlite.outbox.counts());
    expect(await postgres.outbox.openCountsByKind()).toEqual(await sqlite.outbox.openCountsByKind());
    for (const lane of [undefined, { endpoint: null }, { endpoint: seed.endpoints[0]! }, { endpoint: 'https://unknown.example' }]) {
      expect(await postgres.outbox.nextDueAt(lane)).toEqual(await sqlite.outbox.nextDueAt(lane));
    }
  });

  test('push endpoints with their health and open jobs', async () => {
    expect(await postgres.push.endpoints()).toEqual(await sqlite.push.endpoints());
  });

  test('the change feed: pages by position, the newest first, one change', async () => {
    for (const [after, limit] of [
      [0, 10],
      [0, 1_000],
      [123, 50],
      [499, 10],
      [500, 10],
      [10_000, 10],
    ] as const) {
      expect(await postgres.changes.page(after, limit)).toEqual(await sqlite.changes.page(after, limit));
    }
    for (const filter of [
      { limit: 20 },
      { limit: 20, before: 250 },
      { instanceId: seed.instanceIds[5], limit: 50 },
      { instanceId: seed.instanceIds[5], limit: 3, before: 400 },
    ]) {
      expect(await postgres.changes.latest(filter)).toEqual(await sqlite.changes.latest(filter));
    }
    for (const position of [1, 250, 500, 501]) expect(await postgres.changes.get(position)).toEqual(await sqlite.changes.get(position));
  });

  test('deliveries and their raw JWTs (kept, pruned, none for the registry own events)', async () => {
    for (const filter of [{}, { limit: 400 }, { instanceId: seed.instanceIds[2] }, { instanceId: seed.instanceIds[2], limit: 2 }]) {
      expect(await postgres.deliveries.list(filter)).toEqual(await sqlite.deliveries.list(filter));
    }
    const kinds = new Set<string>();
    for (const id of [...seed.deliveryIds, 99_999]) {
      const [expected, actual] = await Promise.all([sqlite.deliveries.jwt(id), postgres.deliveries.jwt(id)]);
      expect(actual, `delivery ${id}`).toEqual(expected);
      kinds.add(expected === null ? 'missing' : `${expected.source}/${expected.jwt === null ? 'none' : 'jwt'}`);
    }
    expect([...kinds].sort()).toEqual(['import/none', 'missing', 'reconcile/none', 'wix/jwt', 'wix/none']);
  });

  test('the token audit, filtered and walked to the end', async () => {
    const requests: Omit<TokenHandoutListRequest, 'after'>[] = [
      { limit: 50 },
      { limit: 7, instanceId: seed.instanceIds[4] },
      { limit: 20, apiKeyId: 'key-b', outcome: 'issued' },
      { limit: 33, since: BASE_MS + 30 * 60_000, until: BASE_MS + 90 * 60_000 },
      { limit: 5, outcome: 'failed', apiKeyId: 'key-a', since: BASE_MS + 60 * 60_000 },
    ];
    for (const request of requests) {
      let after: TokenHandoutListRequest['after'] = null;
      for (;;) {
        const [expected, actual]: [TokenHandoutRowPage, TokenHandoutRowPage] = await Promise.all([
          sqlite.audit.tokenHandouts({ ...request, after }),
          postgres.audit.tokenHandouts({ ...request, after }),
        ]);
        expect(actual).toEqual(expected);
        if (!expected.next) break;
        after = expected.next;
      }
    }
  });

  test('dashboard sessions', async () => {
    expect(await postgres.sessions.list()).toEqual(await sqlite.sessions.list());
    for (const hash of [...seed.sessionHashes, 'nope'])
      expect(await postgres.sessions.find(hash)).toEqual(await sqlite.sessions.find(hash));
  });

  /** The pool as the reads see it, noting each query's text and values; every query still runs on the real pool. */
  function recordingPool(target: pg.Pool, log: { text: string; values: unknown[] }[]): pg.Pool {
    return new Proxy(target, {
      get(pool, property, receiver) {
        if (property !== 'query') return Reflect.get(pool, property, receiver) as unknown;
        return (config: string | pg.QueryConfig, values?: unknown[]) => {
          log.push(
            typeof config === 'string'
              ? { text: config, values: values ?? [] }
              : { text: config.text, values: values ?? config.values ?? [] },
          );
          return pool.query(config, values);
        };
      },
    });
  }

  // Which index serves a page is PostgreSQL's choice by cost; what is checked here is that each
  // index is usable at all: the query states the index's own expression (planTierSql, the search
  // expression, IS NOT NULL for the partial indexes), or no setting would make PostgreSQL take it.
  test.each([
    { filters: {}, index: 'installations_installed_idx' },
    { filters: { plan: 'paid' }, index: 'installations_plan_tier_installed_idx' },
    { filters: { plan: 'premium' }, index: 'installations_plan_product_installed_idx' },
    { filters: { sort: 'removedAt' as const }, index: 'installations_removed_idx' },
    { filters: { sort: 'updatedAt' as const, order: 'asc' as const }, index: 'installations_updated_idx' },
    { filters: {}, rareSearch: true, index: 'installations_search_idx' },
  ])('a page can be served by $index', async ({ filters, rareSearch, index }) => {
    const log: { text: string; values: unknown[] }[] = [];
    const reads = createPostgresReads(recordingPool(pool, log));
    // Ten characters of one instance id: a term the trigram index finds in a handful of rows.
    const q = rareSearch ? seed.instanceIds[1]!.slice(2, 12) : undefined;
    await reads.installations.page({ ...filters, ...(q ? { q } : {}), limit: 50, after: null });
    const query = log.at(-1)!;
    const client = await pool.connect();
    try {
      await client.query('SET enable_seqscan = off');
      const plan = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${query.text}`, query.values);
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain(index);
    } finally {
      await client.query('RESET enable_seqscan');
      client.release();
    }
  });
});
