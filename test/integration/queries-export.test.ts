import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { openStore } from '../../src/db/open-store.ts';
import { createInstallationQueries } from '../../src/installations/queries.ts';
import { installationExportQuerySchema } from '../../src/installations/query-schemas.ts';
import { parseInput } from '../../src/parse-input.ts';
import type { Installation } from '../../src/installations/serialize.ts';
import { createTestRegistry, type TestRegistry } from '../helpers/registry.ts';
import { NOW_MS, seed, standardSpecs, storedRows } from './queries-seed.ts';

/** GET /v1/installations/export: NDJSON and CSV, streamed, with the list's filters. */

let t: TestRegistry;

beforeAll(async () => {
  t = await createTestRegistry({ now: NOW_MS });
  await seed(t, standardSpecs());
});
afterAll(() => t.close());

const CSV_HEADER = [
  'instanceId',
  'appId',
  'status',
  'installedAt',
  'removedAt',
  'updatedAt',
  'originInstanceId',
  'configuredAt',
  'siteId',
  'siteName',
  'siteUrl',
  'planVendorProductId',
  'planCycle',
  'isFree',
  'appVersion',
];

/** An RFC 4180 reader, written here so the test does not trust the writer's idea of CSV. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else field += c;
      i += 1;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 1;
    } else if (c === '\n' || c === '\r' || c === '"') throw new Error(`bare ${JSON.stringify(c)} at ${i}: not RFC 4180`);
    else field += c;
    i += 1;
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || record.length > 0) throw new Error('last record has no CRLF');
  return records;
}

async function listAll(qs: string): Promise<Installation[]> {
  const items: Installation[] = [];
  let cursor: string | null = null;
  do {
    const res = await t.api(`/v1/installations?limit=500&${qs}${cursor ? `&cursor=${cursor}` : ''}`);
    const page = (await res.json()) as { items: Installation[]; nextCursor: string | null };
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

describe('NDJSON', () => {
  it('is one Installation per line, the same rows in the same order as the list, as an attachment', async () => {
    const res = await t.api('/v1/installations/export?format=ndjson&status=removed&sort=removedAt&order=asc');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="installations.ndjson"');
    const text = await res.text();
    expect(text.endsWith('\n')).toBe(true);
    const rows = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Installation);
    expect(rows).toEqual(await listAll('status=removed&sort=removedAt&order=asc'));
    expect(rows.length).toBe((await storedRows(t)).filter((r) => r.status === 'removed').length);
  });

  it('is the default format, and takes every filter', async () => {
    const qs = 'plan=paid&installedFrom=2026-09-03&q=wixsite';
    const text = await (await t.api(`/v1/installations/export?${qs}`)).text();
    const rows = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Installation);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows).toEqual(await listAll(qs));
  });

  it('an export with no match is an empty body, not an error', async () => {
    const res = await t.api('/v1/installations/export?q=nothing-matches-this');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });
});

describe('CSV', () => {
  it('has a header row, flat columns and CRLF records; it parses back to the same values', async () => {
    const res = await t.api('/v1/installations/export?format=csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="installations.csv"');
    const [header, ...records] = parseCsv(await res.text());
    expect(header).toEqual(CSV_HEADER);
    const items = await listAll('');
    expect(records.map((r) => r[0])).toEqual(items.map((i) => i.instanceId));
    for (const [n, record] of records.entries()) {
      const i = items[n]!;
      const flat: Record<string, string> = Object.fromEntries(CSV_HEADER.map((name, k) => [name, record[k]!]));
      expect(record).toHaveLength(CSV_HEADER.length);
      expect(flat).toMatchObject({
        appId: i.appId ?? '',
        status: i.status,
        installedAt: i.installedAt,
        removedAt: i.removedAt ?? '',
        updatedAt: i.updatedAt,
        siteId: i.site.siteId ?? '',
        siteUrl: i.site.url ?? '',
        planVendorProductId: i.plan.vendorProductId ?? '',
        planCycle: i.plan.cycle ?? '',
        isFree: i.plan.isFree === null ? '' : String(i.plan.isFree),
      });
      if (!i.site.name?.startsWith('=')) expect(flat.siteName).toBe(i.site.name ?? '');
    }
  });

  it('quotes a site name holding a comma and quotes, and one holding a line break', async () => {
    const text = await (await t.api('/v1/installations/export?format=csv')).text();
    expect(text).toContain('"Bob\'s ""Best"", Bakery"');
    expect(text).toContain('"Line\nbreak"');
    const names = parseCsv(text)
      .slice(1)
      .map((r) => r[9]);
    expect(names).toContain('Bob\'s "Best", Bakery');
    expect(names).toContain('Line\nbreak');
  });

  it('a site name that starts like a formula is kept as text (leading apostrophe)', async () => {
    const names = parseCsv(await (await t.api('/v1/installations/export?format=csv&q=HYPERLINK')).text())
      .slice(1)
      .map((r) => r[9]);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(name).toBe('\'=HYPERLINK("http://evil.example")');
  });

  it('no match: the header alone', async () => {
    const text = await (await t.api('/v1/installations/export?format=csv&plan=nosuchproduct')).text();
    expect(parseCsv(text)).toEqual([CSV_HEADER]);
  });
});

describe('a large export', () => {
  beforeAll(async () => {
    // Rows straight into the table: thousands of signed deliveries would only slow the test.
    await t.db.runMany(
      `INSERT INTO installations (instance_id, app_id, status, installed_at, installed_at_inferred, removed_at, last_event_at, first_seen_at, updated_at, site_name)
       VALUES (?, 'app', ?, ?, ?, ?, ?, ?, ?, ?)`,
      Array.from({ length: 2_500 }, (_, n) => {
        const installed = Date.UTC(2026, 5, 1) + Math.floor(n / 4) * 60_000; // ties in fours
        const removed = n % 5 === 0 ? installed + 3_600_000 : null;
        return [
          `bulk-${String(n).padStart(5, '0')}`,
          removed ? 'removed' : 'active',
          installed,
          0,
          removed,
          installed,
          installed,
          installed,
          `Bulk site, no. ${n}`,
        ];
      }),
    );
  });

  it('streams every row once, in order, a page at a time', async () => {
    const res = await t.api('/v1/installations/export?format=ndjson');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let chunks = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks += 1;
      text += decoder.decode(value, { stream: true });
    }
    const ids = text
      .trimEnd()
      .split('\n')
      .map((line) => (JSON.parse(line) as Installation).instanceId);
    expect(ids).toHaveLength((await storedRows(t)).length);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual((await listAll('')).map((i) => i.instanceId));
    expect(chunks).toBeGreaterThanOrEqual(3); // 2,540 rows at 1,000 per page
  });

  it('CSV under a filter and another sort matches the list', async () => {
    const qs = 'status=removed&sort=updatedAt&order=asc';
    const records = parseCsv(await (await t.api(`/v1/installations/export?format=csv&${qs}`)).text()).slice(1);
    expect(records.map((r) => r[0])).toEqual((await listAll(qs)).map((i) => i.instanceId));
    expect(records.length).toBeGreaterThan(500);
  });

  it('a sparse search that the walk budget cuts into empty pages still streams every match', async () => {
    // A budget of 50 rows per query: most pages of this search come back empty.
    const store = await openStore(t.databaseUrl, { threads: true, sqlite: { readers: 1, reads: { walkBudgetRows: 50 } } });
    const queries = createInstallationQueries(store, { clock: systemClock });
    const query = parseInput(installationExportQuerySchema, { q: 'no. 7', sort: 'updatedAt' });
    const text = await new Response((await queries.exportStream(query)).body).text();
    await store.close();
    const ids = text
      .trimEnd()
      .split('\n')
      .map((line) => (JSON.parse(line) as Installation).instanceId);
    expect(ids).toEqual((await listAll('q=no.%207&sort=updatedAt')).map((i) => i.instanceId));
    expect(ids.length).toBeGreaterThan(20);
    expect(ids.length).toBeLessThan(500);
  });

  it('a client that stops reading mid-export leaves the registry serving', async () => {
    const res = await t.api('/v1/installations/export');
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    expect((await t.api('/v1/installations?limit=1')).status).toBe(200);
  });
});

describe('bad requests', () => {
  it.each([
    ['format=xml', 'format'],
    ['limit=10', 'limit'],
    ['cursor=abc', 'cursor'],
    ['status=gone', 'status'],
    ['installedFrom=not-a-date', 'installedFrom'],
    ['q=', 'q'],
  ])('%s → 400', async (qs, named) => {
    const res = await t.api(`/v1/installations/export?${qs}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('bad_request');
    expect(body.error.message).toContain(named);
  });

  it('without an API key: 401, no rows', async () => {
    const res = await t.app.request('/v1/installations/export?format=csv');
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain('inst-');
  });

  it('/export is the export, not an instance called "export"', async () => {
    const res = await t.api('/v1/installations/export');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/ndjson/);
  });
});
