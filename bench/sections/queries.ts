/**
 * Queries at scale: the registry on the seeded database (1,000,000 installations, seed-data.ts),
 * one connection, p99 per query. Targets (issue 8): list ≤ 10 ms, get ≤ 5 ms, `q` search
 * ≤ 10 ms, a year of daily stats ≤ 50 ms, /v1/stats ≤ 50 ms; RSS ≤ 250 MB.
 */
import { authHeaders, type Context } from '../lib/context.ts';
import { runLoad, writeLines, type MeteredResult } from '../lib/load-client.ts';
import { int, log, mb, median, ms, sum } from '../lib/report.ts';
import { SEED_EPOCH_MS, type SeedSummary } from '../lib/seed-data.ts';
import { rssMb } from '../lib/proc.ts';
import { startRegistry, stopServer } from '../lib/servers.ts';

const DAY_MS = 86_400_000;
const isoDay = (at: number) => new Date(at).toISOString().slice(0, 10);
/** 366 days (the most /v1/stats/daily allows) ending where the seeded data ends. */
export const YEAR_OF_DAILY_STATS_PATH = `/v1/stats/daily?from=${isoDay(SEED_EPOCH_MS - 366 * DAY_MS)}&to=${isoDay(SEED_EPOCH_MS)}`;

/**
 * Cursors that start pages deep inside the list. The cursor is opaque to clients, so it is not
 * built here from the registry's code: the first page's nextCursor is decoded (base64url JSON),
 * the last item's installedAt and instanceId are located in it and replaced with those of
 * sampled rows. If the cursor does not look like that, the list is walked instead (500 rows a
 * page) and the cursors met on the way are used.
 */
async function deepCursors(ctx: Context, url: string, rows: readonly { instanceId: string; installedAt: number }[]): Promise<string[]> {
  const first = await fetch(`${url}/v1/installations?limit=1`, { headers: authHeaders(ctx) });
  const page = (await first.json()) as { items?: { instanceId?: string; installedAt?: string }[]; nextCursor?: string | null };
  const item = page.items?.[0];
  if (first.status !== 200 || !item || !page.nextCursor)
    throw new Error(`GET /v1/installations answered ${first.status} without items or nextCursor`);
  let template: unknown;
  try {
    template = JSON.parse(Buffer.from(page.nextCursor, 'base64url').toString('utf8'));
  } catch {
    template = null;
  }
  const installedAt = item.installedAt ? Date.parse(item.installedAt) : NaN;
  const walk = (value: unknown, replace: (leaf: unknown) => unknown): unknown =>
    Array.isArray(value)
      ? value.map((v) => walk(v, replace))
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, replace)]))
        : replace(value);
  let foundKey = false;
  let foundId = false;
  walk(template, (leaf) => {
    if (leaf === installedAt) foundKey = true;
    if (leaf === item.instanceId) foundId = true;
    return leaf;
  });
  if (foundKey && foundId) {
    return rows.map((row) =>
      Buffer.from(
        JSON.stringify(
          walk(template, (leaf) => (leaf === installedAt ? row.installedAt : leaf === item.instanceId ? row.instanceId : leaf)),
        ),
      ).toString('base64url'),
    );
  }
  log('  the list cursor is not [installedAt, instanceId]-shaped: walking the list for deep cursors instead');
  const cursors: string[] = [];
  let cursor: string | null = page.nextCursor;
  for (let i = 0; i < 100 && cursor; i++) {
    const res = await fetch(`${url}/v1/installations?limit=500&cursor=${encodeURIComponent(cursor)}`, { headers: authHeaders(ctx) });
    cursor = ((await res.json()) as { nextCursor?: string | null }).nextCursor ?? null;
    if (cursor && i >= 20) cursors.push(cursor);
  }
  if (cursors.length === 0) throw new Error('could not obtain deep cursors');
  return cursors;
}

interface QueryCase {
  key: string;
  label: string;
  targetMs: number;
  request: { path?: string; pathsFile?: string };
  /**
   * A count of requests instead of a time window, for queries that may take seconds each (a
   * window shorter than one request would measure nothing).
   */
  requests?: number;
}

function queryCases(summary: SeedSummary, getPaths: string, quick: boolean): QueryCase[] {
  const searches = summary.searchTerms.map((term, i) => ({
    key: `search${i}`,
    label: `GET /v1/installations?q=${term.q} (${term.label}, ${int(term.matches)} matches)`,
    targetMs: 10,
    request: { path: `/v1/installations?q=${encodeURIComponent(term.q)}` },
  }));
  return [
    { key: 'list', label: 'GET /v1/installations', targetMs: 10, request: { path: '/v1/installations' } },
    { key: 'listActive', label: 'GET /v1/installations?status=active', targetMs: 10, request: { path: '/v1/installations?status=active' } },
    {
      key: 'listRemoved',
      label: 'GET /v1/installations?status=removed',
      targetMs: 10,
      request: { path: '/v1/installations?status=removed' },
    },
    { key: 'listDeep', label: 'GET /v1/installations?cursor=<deep>', targetMs: 10, request: {} },
    { key: 'get', label: 'GET /v1/installations/:id (random)', targetMs: 5, request: { pathsFile: getPaths } },
    ...searches,
    {
      key: 'statsYear',
      label: 'GET /v1/stats/daily (366 days)',
      targetMs: 50,
      request: { path: YEAR_OF_DAILY_STATS_PATH },
      requests: quick ? 4 : 10,
    },
    { key: 'stats', label: 'GET /v1/stats', targetMs: 50, request: { path: '/v1/stats' } },
  ];
}

/** What the first page of each search holds: today's walk budget can return short or empty pages. */
async function firstSearchPages(ctx: Context, url: string, summary: SeedSummary) {
  const pages: { q: string; matches: number; items: number; more: boolean }[] = [];
  for (const term of summary.searchTerms) {
    const res = await fetch(`${url}/v1/installations?q=${encodeURIComponent(term.q)}`, { headers: authHeaders(ctx) });
    const page = (await res.json()) as { items?: unknown[]; nextCursor?: string | null };
    pages.push({ q: term.q, matches: term.matches, items: page.items?.length ?? 0, more: Boolean(page.nextCursor) });
  }
  return pages;
}

export async function benchQueries(ctx: Context) {
  const { settings, report } = ctx;
  const S = 'Queries (1M)';
  const seeded = await ctx.engine.seededDatabase(settings.queries.installations, log);
  const { summary } = seeded;
  log(
    `queries: database ${seeded.url} (${mb(seeded.sizeMb)}, ${seeded.cached ? 'cached' : `seeded in ${seeded.seconds.toFixed(0)} s`}): ` +
      `${int(summary.installations)} installations, ${int(summary.events)} events`,
  );
  const getPaths = writeLines(
    'get-paths.txt',
    summary.sample.map((r) => `/v1/installations/${encodeURIComponent(r.instanceId)}`),
  );
  const cases = queryCases(summary, getPaths, settings.quick);

  const startups: number[] = [];
  const rssAfterStart: number[] = [];
  const rssAfterQueries: number[] = [];
  const results = new Map<string, MeteredResult[]>();
  let searchPages: Awaited<ReturnType<typeof firstSearchPages>> = [];
  for (let run = 1; run <= settings.runs; run++) {
    const warmSec = await seeded.warm();
    log(`queries: registry on the seeded database, run ${run}/${settings.runs} (cache warmed in ${warmSec.toFixed(1)} s)`);
    // In place: these queries do not write (the interference section works on a copy).
    const server = await startRegistry(ctx, seeded.url);
    try {
      const deepCase = cases.find((c) => c.key === 'listDeep')!;
      if (!deepCase.request.pathsFile) {
        const cursors = await deepCursors(ctx, server.url, summary.sample.slice(0, 200));
        deepCase.request = {
          pathsFile: writeLines(
            'deep-paths.txt',
            cursors.map((c) => `/v1/installations?cursor=${encodeURIComponent(c)}`),
          ),
        };
      }
      startups.push(server.startupMs);
      rssAfterStart.push(rssMb(server.pid));
      log(`  ready in ${ms(server.startupMs)}, RSS ${mb(rssAfterStart.at(-1)!)}`);
      if (run === 1) searchPages = await firstSearchPages(ctx, server.url, summary);
      for (const c of cases) {
        const result = await runLoad(
          {
            url: server.url,
            connections: settings.queries.connections,
            requests: [{ method: 'GET', headers: authHeaders(ctx), ...c.request }],
            ...(c.requests
              ? { warmup: { amount: 1 }, measure: { amount: c.requests } }
              : {
                  warmup: { durationSec: settings.queries.warmupSec },
                  measure: { durationSec: settings.queries.measureSec, maxRequests: settings.queries.maxRequests },
                }),
            timeoutSec: 30,
          },
          server.pid,
        );
        results.set(c.key, [...(results.get(c.key) ?? []), result]);
        // RSS after each query: which one makes the server grow.
        log(
          `  ${c.label}: p50 ${ms(result.p50)}, p99 ${ms(result.p99)}, ${int(result.rps)} req/s, non-2xx ${result.non2xx}, RSS ${mb(rssMb(server.pid))}`,
        );
      }
      rssAfterQueries.push(rssMb(server.pid));
      log(`  RSS after the queries ${mb(rssAfterQueries.at(-1)!)}`);
    } finally {
      await stopServer(server);
    }
  }

  report.row(
    S,
    'seeded database',
    `${int(summary.installations)} installs (${int(summary.active)} active), ${int(summary.events)} events, ${mb(seeded.sizeMb)}`,
  );
  const startup = median(startups);
  report.row(S, 'startup (spawn → /readyz 200)', ms(startup));
  const rssStart = Math.max(...rssAfterStart);
  const rssEnd = Math.max(...rssAfterQueries);
  report.row(S, 'RSS after start', mb(rssStart), '≤ 250 MB', rssStart <= 250);
  report.row(S, 'RSS after the queries', mb(rssEnd), '≤ 250 MB', rssEnd <= 250);
  const perCase: Record<string, unknown> = {};
  for (const c of cases) {
    const runs = results.get(c.key) ?? [];
    const p50 = median(runs.map((r) => r.p50));
    const p99 = median(runs.map((r) => r.p99));
    const failed = sum(runs.map((r) => r.non2xx + r.errors));
    const rps = median(runs.map((r) => r.rps));
    const requests = sum(runs.map((r) => r.requests));
    const ok = requests > 0 && p99 <= c.targetMs && failed === 0;
    const value = requests === 0 ? 'no answer in the window' : `${ms(p99)} (${ms(p50)})${failed ? `, ${int(failed)} failed` : ''}`;
    report.row(S, `${c.label}: p99 (p50)`, value, `≤ ${c.targetMs} ms, 0 failed`, ok);
    perCase[c.key] = { label: c.label, targetMs: c.targetMs, p50, p99, rps, requests, failed, runs };
  }
  for (const page of searchPages) {
    report.row(
      S,
      `q=${page.q}: items on the first page (limit 50) / matches in the data`,
      `${int(page.items)}${page.more ? ' (more: nextCursor)' : ''} / ${int(page.matches)}`,
    );
  }
  return {
    database: {
      url: seeded.url,
      sizeMb: seeded.sizeMb,
      cached: seeded.cached,
      seconds: seeded.seconds,
      counts: { ...summary, sample: undefined },
    },
    connections: settings.queries.connections,
    startupMs: startup,
    startupRuns: startups,
    rssAfterStartMb: rssStart,
    rssAfterQueriesMb: rssEnd,
    searchPages,
    cases: perCase,
  };
}
