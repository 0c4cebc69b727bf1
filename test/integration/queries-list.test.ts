import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { openStore } from '../../src/db/open-store.ts';
import { encodeCursor } from '../../src/installations/cursor.ts';
import { createInstallationQueries } from '../../src/installations/queries.ts';
import { installationListQuerySchema } from '../../src/installations/query-schemas.ts';
import { parseInput } from '../../src/parse-input.ts';
import type { Installation } from '../../src/installations/serialize.ts';
import { createTestRegistry, type TestRegistry } from '../helpers/registry.ts';
import { BASE_SEC, DAY_SEC, deliverEvent, NOW_MS, seed, standardSpecs, storedRows, type StoredRow } from './queries-seed.ts';
import { TEST_ENGINE } from '../helpers/engine.ts';

/**
 * GET /v1/installations: every filter and sort, paged to the end and compared with the answer
 * computed here in plain TypeScript from the stored rows.
 */

let t: TestRegistry;
/** The rows as stored: read again whenever a test changes them. */
let seeded: StoredRow[];

beforeAll(async () => {
  t = await createTestRegistry({ now: NOW_MS });
  await seed(t, standardSpecs());
  // Ties on updatedAt too, so every sort has to break ties by instance id.
  await t.db.run(`UPDATE installations SET updated_at = ? WHERE instance_id IN ('inst-03', 'inst-11', 'inst-20', 'inst-28', 'inst-36')`, [
    NOW_MS - DAY_SEC * 1000,
  ]);
  seeded = await storedRows(t);
});
afterAll(() => t.close());

interface Page {
  items: Installation[];
  nextCursor: string | null;
}

async function getJson(path: string): Promise<{ status: number; body: unknown }> {
  const res = await t.api(path);
  return { status: res.status, body: await res.json() };
}

/** Follows nextCursor to the end; returns every page. */
async function walk(params: Record<string, string>): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const qs = new URLSearchParams({ ...params, ...(cursor ? { cursor } : {}) });
    const { status, body } = await getJson(`/v1/installations?${qs.toString()}`);
    expect(status, JSON.stringify(body)).toBe(200);
    const page = body as Page;
    pages.push(page);
    cursor = page.nextCursor;
    expect(pages.length).toBeLessThan(100);
  } while (cursor);
  return pages;
}

// ---- the oracle -----------------------------------------------------------------------------

type Filters = Record<string, string>;
const ms = (text: string) => Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text);

function matches(r: StoredRow, f: Filters): boolean {
  const paid = r.is_free === 0 || r.plan_vendor_product_id !== null;
  if (f.status && r.status !== f.status) return false;
  if (f.plan === 'paid' && !paid) return false;
  if (f.plan === 'free' && paid) return false;
  if (f.plan && f.plan !== 'paid' && f.plan !== 'free' && r.plan_vendor_product_id !== f.plan) return false;
  if (f.installedFrom && !(r.installed_at >= ms(f.installedFrom))) return false;
  if (f.installedTo && !(r.installed_at < ms(f.installedTo))) return false;
  if (f.removedFrom && !(r.removed_at !== null && r.removed_at >= ms(f.removedFrom))) return false;
  if (f.removedTo && !(r.removed_at !== null && r.removed_at < ms(f.removedTo))) return false;
  if (f.q) {
    const needle = f.q.toLowerCase();
    if (![r.site_name, r.site_url, r.instance_id].some((v) => v !== null && v.toLowerCase().includes(needle))) return false;
  }
  return true;
}

const SORT_COLUMN = { installedAt: 'installed_at', removedAt: 'removed_at', updatedAt: 'updated_at' } as const;

/**
 * Sort key then instance id, in `order`; under removedAt, rows without a removal time last,
 * by (installedAt, instance id) in the same order.
 */
function expectedIds(f: Filters): string[] {
  const sort = (f.sort ?? 'installedAt') as keyof typeof SORT_COLUMN;
  const sign = f.order === 'asc' ? 1 : -1;
  const column = SORT_COLUMN[sort];
  const byId = (a: StoredRow, b: StoredRow) => sign * (a.instance_id < b.instance_id ? -1 : a.instance_id > b.instance_id ? 1 : 0);
  return seeded
    .filter((r) => matches(r, f))
    .sort((a, b) => {
      const ka = a[column];
      const kb = b[column];
      if (ka === null && kb === null) return sign * (a.installed_at - b.installed_at) || byId(a, b);
      if (ka === null || kb === null) return ka === null ? 1 : -1;
      return sign * (ka - kb) || byId(a, b);
    })
    .map((r) => r.instance_id);
}

const FILTER_SETS: Filters[] = [
  {},
  { status: 'active' },
  { status: 'removed' },
  { plan: 'paid' },
  { plan: 'free' },
  { plan: 'premium' },
  { installedFrom: '2026-09-03', installedTo: '2026-09-08T12:00:00Z' },
  { removedFrom: '2026-09-05', removedTo: '2026-09-16' },
  { q: 'bakery' },
  { status: 'active', plan: 'paid', installedFrom: '2026-09-02' },
  { status: 'removed', removedFrom: '2026-09-01', q: 'wixsite' },
];
const SORTS = ['installedAt', 'removedAt', 'updatedAt'] as const;
const ORDERS = ['desc', 'asc'] as const;

describe('GET /v1/installations pages through every filter and sort', () => {
  it('the seed is varied enough to mean something', () => {
    const rows = seeded;
    expect(rows).toHaveLength(40);
    expect(rows.filter((r) => r.status === 'removed').length).toBeGreaterThan(5);
    expect(new Set(rows.map((r) => r.installed_at)).size).toBeLessThan(20); // ties
    expect(new Set(rows.filter((r) => r.removed_at !== null).map((r) => r.removed_at)).size).toBeLessThan(13); // ties
    // What the removedAt walk relies on: removed exactly when there is a removal time.
    for (const r of rows) expect(r.status === 'removed').toBe(r.removed_at !== null);
    for (const f of FILTER_SETS.slice(1)) expect(expectedIds(f).length, JSON.stringify(f)).toBeGreaterThan(1);
  });

  for (const sort of SORTS) {
    for (const order of ORDERS) {
      it.each(FILTER_SETS.map((f) => [JSON.stringify(f), f] as const))(
        `sort=${sort}&order=${order}, filters %s`,
        async (_name, filters) => {
          const params = { ...filters, sort, order, limit: '4' };
          const pages = await walk(params);
          const ids = pages.flatMap((p) => p.items.map((i) => i.instanceId));
          expect(ids).toEqual(expectedIds(params)); // same rows, same order: no gap, no duplicate
          expect(new Set(ids).size).toBe(ids.length);
          pages.slice(0, -1).forEach((p) => expect(p.items).toHaveLength(4));
          expect(pages.at(-1)!.nextCursor).toBeNull();
        },
      );
    }
  }

  it('defaults: newest install first, 50 per page, the full Installation shape', async () => {
    const { body } = await getJson('/v1/installations');
    const page = body as Page;
    expect(page.items.map((i) => i.instanceId)).toEqual(expectedIds({}));
    expect(page.nextCursor).toBeNull();
    const removed = page.items.find((i) => i.status === 'removed')!;
    expect(removed).toMatchObject({
      appId: 'app',
      originInstanceId: null,
      removedAt: expect.any(String),
      site: expect.any(Object),
      plan: expect.any(Object),
    });
  });

  it('a cursor from the first release ([installedAt, instanceId]) still continues newest first', async () => {
    const ids = expectedIds({});
    const row = seeded.find((r) => r.instance_id === ids[9])!;
    const legacy = Buffer.from(JSON.stringify([row.installed_at, row.instance_id])).toString('base64url');
    const page = (await getJson(`/v1/installations?limit=3&cursor=${legacy}`)).body as Page;
    expect(page.items.map((i) => i.instanceId)).toEqual(ids.slice(10, 13));
  });
});

// SQLite only: the two access paths and the walk budget are SQLite's planner (PostgreSQL plans
// its own queries; postgres-reads.test.ts checks its answers against SQLite's).
describe.runIf(TEST_ENGINE === 'sqlite')('both access paths give the same answer', () => {
  // choosePlan either walks the sort's index or sorts one filter's matches; which one depends
  // on counts, so on this small table force each, on every filter and sort.
  // A walk budget of 3 rows makes short (and empty) pages wherever a filter is tested on the way.
  for (const [name, maxRowsToSort, walkBudgetRows] of [
    ['always walk the sort index', 0, undefined],
    ['always sort the rarest filter', 1_000_000, undefined],
    ['walk, at most 3 rows looked at per query', 0, 3],
  ] as const) {
    it(name, async () => {
      // A second store on the same file, its planner forced; exports come 4 rows a chunk.
      const store = await openStore(t.databaseUrl, {
        threads: false,
        sqlite: { reads: { maxRowsToSort, walkBudgetRows, exportPageRows: 4 } },
      });
      const queries = createInstallationQueries(store, { clock: systemClock });
      let shortPages = 0;
      for (const sort of SORTS) {
        for (const order of ORDERS) {
          for (const filters of FILTER_SETS) {
            const params = { ...filters, sort, order, limit: '3' };
            const query = parseInput(installationListQuerySchema, params);
            const ids: string[] = [];
            let cursor: string | undefined;
            do {
              const page = await queries.list({ ...query, cursor });
              ids.push(...page.items.map((i) => i.instanceId));
              if (page.items.length < 3 && page.nextCursor) shortPages += 1;
              cursor = page.nextCursor ?? undefined;
            } while (cursor && ids.length < 200); // a cursor that does not advance must fail, not hang
            expect(ids, JSON.stringify(params)).toEqual(expectedIds(params));
            const exported: string[] = [];
            const { limit: _limit, cursor: _cursor, ...exportFilters } = query;
            for await (const chunk of await queries.exportChunks({ ...exportFilters, format: 'ndjson' })) {
              exported.push(
                ...chunk
                  .split('\n')
                  .filter(Boolean)
                  .map((line) => (JSON.parse(line) as Installation).instanceId),
              );
              if (exported.length > 200) break;
            }
            expect(exported, JSON.stringify(params)).toEqual(expectedIds(params));
          }
        }
      }
      // Only a budgeted walk returns a short page that is not the last.
      if (walkBudgetRows) expect(shortPages).toBeGreaterThan(10);
      else expect(shortPages).toBe(0);
      await store.close();
    });
  }
});

describe('search through the trigram index', () => {
  it('a search of three or more characters fills every page, even where a walk runs out of budget (the index finishes the page)', async () => {
    // Never sort a filter's matches, and look at 3 rows per walk: without the index, pages come back short.
    const store = await openStore(t.databaseUrl, { threads: false, sqlite: { reads: { maxRowsToSort: 0, walkBudgetRows: 3 } } });
    try {
      const queries = createInstallationQueries(store, { clock: systemClock });
      for (const q of ['wixsite', 'bakery', 'inst-1', 'YOGA', 'e_c', '100%']) {
        const query = parseInput(installationListQuerySchema, { q, limit: '2' });
        const pages: string[][] = [];
        let cursor: string | undefined;
        do {
          const page = await queries.list({ ...query, cursor });
          pages.push(page.items.map((i) => i.instanceId));
          cursor = page.nextCursor ?? undefined;
        } while (cursor && pages.length < 100);
        expect(pages.flat(), q).toEqual(expectedIds({ q }));
        // Full pages until the matches run out: at most the last page is short (or empty).
        expect(
          pages.slice(0, -1).every((p) => p.length === 2),
          `${q}: ${JSON.stringify(pages)}`,
        ).toBe(true);
      }
    } finally {
      await store.close();
    }
  });
});

describe('filters, one by one', () => {
  const ids = async (qs: string) =>
    ((await getJson(`/v1/installations?limit=500&${qs}`)).body as Page).items.map((i) => i.instanceId).sort();
  const rowsWhere = (pred: (r: StoredRow) => boolean) =>
    seeded
      .filter(pred)
      .map((r) => r.instance_id)
      .sort();

  it('plan=paid is is_free = 0 or a paid-plan product; plan=free is every other row', async () => {
    const paid = await ids('plan=paid');
    const free = await ids('plan=free');
    expect(paid).toEqual(rowsWhere((r) => r.is_free === 0 || r.plan_vendor_product_id !== null));
    expect(free).toEqual(rowsWhere((r) => r.is_free !== 0 && r.plan_vendor_product_id === null));
    expect([...paid, ...free].sort()).toEqual(rowsWhere(() => true));
    // The cases that make the definition: paid by is_free alone, paid by product despite
    // is_free = 1, and free because nothing is known.
    const rows = seeded;
    expect(rows.some((r) => r.is_free === 0 && r.plan_vendor_product_id === null && paid.includes(r.instance_id))).toBe(true);
    expect(rows.some((r) => r.is_free === 1 && r.plan_vendor_product_id !== null && paid.includes(r.instance_id))).toBe(true);
    expect(rows.some((r) => r.is_free === null && r.plan_vendor_product_id === null && free.includes(r.instance_id))).toBe(true);
  });

  it('plan=<vendorProductId> is that product only', async () => {
    expect(await ids('plan=premium')).toEqual(rowsWhere((r) => r.plan_vendor_product_id === 'premium'));
    expect(await ids('plan=business')).toEqual(rowsWhere((r) => r.plan_vendor_product_id === 'business'));
    expect(await ids('plan=nosuchproduct')).toEqual([]);
  });

  it('installedFrom is inclusive and installedTo exclusive, to the millisecond', async () => {
    const at = (BASE_SEC + 2 * DAY_SEC + 3600) * 1000; // one group of three installs
    const iso = new Date(at).toISOString();
    const exact = await ids(`installedFrom=${iso}&installedTo=${new Date(at + 1).toISOString()}`);
    expect(exact).toEqual(rowsWhere((r) => r.installed_at === at));
    expect(exact).toHaveLength(3);
    expect(await ids(`installedTo=${iso}`)).toEqual(rowsWhere((r) => r.installed_at < at));
  });

  it('a date means midnight UTC, and an offset is honoured (encoded or not)', async () => {
    const byDate = await ids('installedFrom=2026-09-05');
    expect(await ids('installedFrom=2026-09-05T00:00:00Z')).toEqual(byDate);
    expect(await ids('installedFrom=2026-09-05T02:00:00%2B02:00')).toEqual(byDate);
    // An unencoded + arrives as a space; it is read as the + it was.
    expect(await ids('installedFrom=2026-09-05T02:00:00+02:00')).toEqual(byDate);
    expect(await ids('installedFrom=2026-09-04T19:00:00.000-05:00')).toEqual(byDate);
    expect(byDate).toEqual(rowsWhere((r) => r.installed_at >= Date.UTC(2026, 8, 5)));
  });

  it('removedFrom/removedTo only match removed installations', async () => {
    expect(await ids('removedFrom=2020-01-01')).toEqual(rowsWhere((r) => r.removed_at !== null));
    expect(await ids('removedFrom=2026-09-16&removedTo=2026-09-17')).toEqual(
      rowsWhere((r) => r.removed_at === (BASE_SEC + 15 * DAY_SEC) * 1000),
    );
  });

  it('q searches site name, site URL and instance id, ignoring ASCII case', async () => {
    expect(await ids('q=YOGA')).toEqual(rowsWhere((r) => r.site_name === 'YOGA in the park'));
    expect(await ids('q=yoga')).toEqual(await ids('q=YOGA'));
    expect(await ids('q=user12.wixsite')).toEqual(rowsWhere((r) => r.site_url?.includes('user12.wixsite') ?? false));
    expect(await ids('q=inst-0')).toEqual(rowsWhere((r) => r.instance_id.startsWith('inst-0')));
    expect(await ids(`q=${encodeURIComponent('"Best", B')}`)).toEqual(rowsWhere((r) => r.site_name === 'Bob\'s "Best", Bakery'));
  });

  it('q treats % and _ (and \\) as the characters they are, not wildcards', async () => {
    const named = (name: string) => rowsWhere((r) => r.site_name === name);
    expect(await ids(`q=${encodeURIComponent('100%')}`)).toEqual(named('Bakery 100% Natural'));
    expect(await ids(`q=${encodeURIComponent('%')}`)).toEqual(named('Bakery 100% Natural'));
    expect(await ids('q=_')).toEqual(named('Snake_case Studio'));
    expect(await ids('q=e_c')).toEqual(named('Snake_case Studio'));
    expect(await ids(`q=${encodeURIComponent('Bakery%Natural')}`)).toEqual([]);
    expect(await ids(`q=${encodeURIComponent('in_t')}`)).toEqual([]); // would match every inst-xx as a wildcard
    expect(await ids(`q=${encodeURIComponent('\\')}`)).toEqual([]);
    expect(await ids(`q=${encodeURIComponent('\\%')}`)).toEqual([]);
  });

  it('filters combine (AND)', async () => {
    const qs = 'status=removed&plan=free&installedFrom=2026-09-02&q=wixsite';
    expect(await ids(qs)).toEqual(
      rowsWhere((r) => matches(r, { status: 'removed', plan: 'free', installedFrom: '2026-09-02', q: 'wixsite' })),
    );
  });
});

describe('bad parameters are 400 with the error envelope', () => {
  const otherSortCursor = () => encodeCursor({ sort: 'updatedAt', order: 'desc', key: NOW_MS, instanceId: 'inst-01' });
  it.each([
    ['status=gone', 'status'],
    ['plan=', 'plan'],
    ['installedFrom=yesterday', 'installedFrom'],
    ['installedFrom=2026-02-30', 'installedFrom'],
    ['installedFrom=2026-09-01T10:00:00', 'installedFrom'], // no zone: ambiguous
    ['installedTo=2026-13-01', 'installedTo'],
    ['removedFrom=1700000000000', 'removedFrom'],
    ['installedFrom=2026-09-05&installedTo=2026-09-05', 'installedTo'],
    ['removedFrom=2026-09-05&removedTo=2026-09-01', 'removedTo'],
    ['q=', 'q'],
    [`q=${'x'.repeat(201)}`, 'q'],
    ['sort=name', 'sort'],
    ['order=up', 'order'],
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=2.5', 'limit'],
    ['cursor=%21%21notacursor', 'cursor'],
    [`cursor=${Buffer.from('["installedAt","desc","x","i"]').toString('base64url')}`, 'cursor'],
    ['search=bakery', 'search'],
    ['bogus=1', 'bogus'],
  ])('%s', async (qs, named) => {
    const { status, body } = await getJson(`/v1/installations?${qs}`);
    expect(status).toBe(400);
    const error = (body as { error: { code: string; message: string; requestId: string } }).error;
    expect(error.code).toBe('bad_request');
    expect(error.message).toContain(named);
    expect(error.requestId).toBeTruthy();
  });

  it('a cursor used with another sort or order is refused, saying which it belongs to', async () => {
    const { status, body } = await getJson(`/v1/installations?sort=installedAt&cursor=${otherSortCursor()}`);
    expect(status).toBe(400);
    expect((body as { error: { message: string } }).error.message).toMatch(/sort=updatedAt&order=desc/);
    const next = ((await getJson('/v1/installations?limit=2&order=asc')).body as Page).nextCursor!;
    expect((await getJson(`/v1/installations?limit=2&order=desc&cursor=${next}`)).status).toBe(400);
    expect((await getJson(`/v1/installations?limit=2&order=asc&cursor=${next}`)).status).toBe(200);
  });

  it('without an API key: 401, and nothing about installations', async () => {
    for (const path of ['/v1/installations?plan=paid', '/v1/installations?q=bakery']) {
      const res = await t.app.request(path);
      expect(res.status).toBe(401);
      expect(JSON.stringify(await res.json())).not.toContain('inst-');
    }
  });
});

describe('paging while the table changes (runs last: it adds a row)', () => {
  it('an install arriving between two pages is not in the next page, and nothing is skipped', async () => {
    const before = expectedIds({});
    const first = (await getJson('/v1/installations?limit=5')).body as Page;
    // Newer than every seeded install: it sorts before the cursor.
    await deliverEvent(t, 'AppInstalled', 'inst-late', NOW_MS / 1000 - 60, { appId: 'app' });
    seeded = await storedRows(t);
    const rest = (await walk({ limit: '7', cursor: first.nextCursor! })).flatMap((p) => p.items);
    expect([...first.items, ...rest].map((i) => i.instanceId)).toEqual(before);
    expect(expectedIds({})[0]).toBe('inst-late');
  });
});
