/**
 * `npm run bench`: the registry against its references, each server in its own process and the
 * load generator (bench/load.ts, autocannon) in another. Prints one markdown table of every
 * figure with its target, writes bench/results/latest.json, and exits 0 even when a target is
 * missed: it is a report, not a gate. See bench/README.md.
 *
 *   npm run bench [-- --quick] [-- --only=ingest|tokens|queries|soak[,…]] [-- --runs=N]
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createFakeWix, listenLocal, type FakeWix } from '../src/sandbox/fake-wix.ts';
import { runLoad, writeLines, type LoadSpec, type MeteredResult } from './lib/load-client.ts';
import {
  freePort,
  installCleanup,
  REPO_ROOT,
  rssMb,
  spawnTracked,
  stopChild,
  waitForHttp200,
  waitForPortLine,
  type Tracked,
} from './lib/proc.ts';
import { RESULTS_DIR, sampleRows, seededDatabase } from './lib/seed-queries.ts';
import { generateSigningKey, loadOrSignPool, type SignedDelivery, type SigningKey } from './lib/webhooks.ts';

// ---- options ----------------------------------------------------------------------------

const SECTIONS = ['ingest', 'tokens', 'queries', 'soak'] as const;
type Section = (typeof SECTIONS)[number];

interface Settings {
  quick: boolean;
  runs: number;
  sections: Section[];
  connections: number;
  ingest: { warmupSec: number; measureSec: number; poolSize: number };
  tokens: { installs: number; requests: number; helloWarmupSec: number };
  queries: { installations: number; warmupSec: number; measureSec: number; maxRequests: number; connections: number };
  soak: { durationSec: number; seedInstalls: number };
}

class UsageError extends Error {}

function parseSettings(argv: string[]): Settings {
  const quick = argv.includes('--quick');
  let sections: Section[] = [...SECTIONS];
  let runs = quick ? 1 : 3;
  for (const arg of argv) {
    if (arg.startsWith('--only=')) {
      const wanted = arg.slice('--only='.length).split(',').filter(Boolean);
      const unknown = wanted.filter((w) => !(SECTIONS as readonly string[]).includes(w));
      if (unknown.length > 0) throw new UsageError(`--only: unknown section(s) ${unknown.join(', ')}; expected ${SECTIONS.join('|')}`);
      sections = SECTIONS.filter((s) => wanted.includes(s));
    } else if (arg.startsWith('--runs=')) {
      runs = Number(arg.slice('--runs='.length));
      if (!Number.isInteger(runs) || runs < 1 || runs > 9) throw new UsageError('--runs must be 1..9');
    } else if (arg !== '--quick') {
      throw new UsageError(`unknown argument ${arg}; flags: --quick, --only=${SECTIONS.join('|')}, --runs=N`);
    }
  }
  return {
    quick,
    runs,
    sections,
    connections: 50,
    ingest: quick ? { warmupSec: 1, measureSec: 4, poolSize: 25_000 } : { warmupSec: 2, measureSec: 10, poolSize: 70_000 },
    tokens: { installs: 1_000, requests: 10_000, helloWarmupSec: quick ? 1 : 2 },
    queries: quick
      ? { installations: 1_000_000, warmupSec: 0.3, measureSec: 1.5, maxRequests: 2_000, connections: 1 }
      : { installations: 1_000_000, warmupSec: 0.5, measureSec: 3, maxRequests: 5_000, connections: 1 },
    soak: { durationSec: quick ? 10 : 60, seedInstalls: 1_000 },
  };
}

// ---- report rows -----------------------------------------------------------------------

interface Row {
  section: string;
  figure: string;
  value: string;
  target: string;
  /** null: a figure without a target. */
  pass: boolean | null;
}

const rows: Row[] = [];
const row = (section: string, figure: string, value: string, target = '', pass: boolean | null = null) =>
  rows.push({ section, figure, value, target, pass });

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 1)} ms`;
const mb = (n: number) => `${n.toFixed(0)} MB`;
const pct = (n: number) => `${n.toFixed(0)}%`;
const times = (n: number) => `${n.toFixed(2)}×`;

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

// ---- shared context ----------------------------------------------------------------------

interface Context {
  settings: Settings;
  key: SigningKey;
  appId: string;
  appSecret: string;
  apiKey: string;
  fakeWix: FakeWix;
  fakeWixUrl: string;
  pool: SignedDelivery[];
  /** Every pool body, one per line, for the load generator. */
  poolFile: string;
  work: string;
}

interface Server {
  name: string;
  tracked: Tracked;
  pid: number;
  url: string;
  /** Spawn → ready (registry: /readyz 200; references: their port line). */
  startupMs: number;
  dbPath: string | null;
}

function registryEnv(ctx: Context, dbPath: string, port: number, groupCommit: boolean): NodeJS.ProcessEnv {
  return {
    ...process.env,
    WIX_APP_ID: ctx.appId,
    WIX_APP_SECRET: ctx.appSecret,
    WIX_PUBLIC_KEY: ctx.key.publicKeyPem,
    DATABASE_URL: dbPath,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    REGISTRY_API_KEYS: ctx.apiKey,
    WIX_API_BASE_URL: ctx.fakeWixUrl,
    REGISTRY_GROUP_COMMIT: groupCommit ? 'on' : 'off',
  };
}

/** The registry as `npm start` runs it: `node bin/wix-registry.js serve`. */
async function startRegistry(ctx: Context, name: string, dbPath: string, groupCommit = true): Promise<Server> {
  const port = await freePort();
  const started = performance.now();
  const tracked = spawnTracked(name, process.execPath, ['bin/wix-registry.js', 'serve'], {
    env: registryEnv(ctx, dbPath, port, groupCommit),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp200(`${url}/readyz`, tracked);
  return { name, tracked, pid: tracked.pid, url, startupMs: performance.now() - started, dbPath };
}

/** A server from bench/references/, which prints {"port":N} once it listens. */
async function startReference(ctx: Context, name: string, file: string, dbPath: string | null): Promise<Server> {
  const started = performance.now();
  const args = ['bin/run-ts.js', `bench/references/${file}`, '--port=0', ...(dbPath ? [`--db=${dbPath}`] : [])];
  const tracked = spawnTracked(name, process.execPath, args, {
    env: { ...process.env, WIX_APP_ID: ctx.appId, WIX_PUBLIC_KEY: ctx.key.publicKeyPem, BENCH_PARENT_STDIN: '1' },
  });
  const port = await waitForPortLine(tracked);
  return { name, tracked, pid: tracked.pid, url: `http://127.0.0.1:${port}`, startupMs: performance.now() - started, dbPath };
}

async function stopServer(server: Server): Promise<void> {
  const stopped = await stopChild(server.tracked, 12_000);
  if (stopped.killed) log(`  note: ${server.name} did not exit within 12 s of SIGTERM and was killed`);
  else if (stopped.code !== 0) log(`  note: ${server.name} exited with code ${stopped.code} after SIGTERM:\n${server.tracked.tail().slice(-1500)}`);
}

function freshDbPath(ctx: Context, name: string): string {
  const dir = mkdtempSync(join(ctx.work, `${name}-`));
  return join(dir, `${name}.db`);
}

function removeDb(dbPath: string | null) {
  if (dbPath) rmSync(join(dbPath, '..'), { recursive: true, force: true });
}

/** Rows in the installations table (every target names its table so), read after the server stopped. */
function countInstallations(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM installations').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** POSTs signed deliveries with `concurrency` in flight; returns how many were not answered 200. */
async function postDeliveries(url: string, deliveries: SignedDelivery[], concurrency = 50): Promise<number> {
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < deliveries.length) {
        const delivery = deliveries[next++]!;
        const res = await fetch(`${url}/webhooks/wix`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: delivery.jwt });
        await res.arrayBuffer();
        if (res.status !== 200) failed++;
      }
    }),
  );
  return failed;
}

const auth = (ctx: Context) => ({ authorization: `Bearer ${ctx.apiKey}` });

/** The fake Wix records every call; keep its memory flat between runs. */
function resetFakeWixCalls(ctx: Context) {
  ctx.fakeWix.calls.splice(0, ctx.fakeWix.calls.length);
}

// ---- 1. webhook ingest ---------------------------------------------------------------------

interface IngestTarget {
  key: 'registryOn' | 'registryOff' | 'minimal' | 'docs';
  label: string;
  start: (ctx: Context, dbPath: string) => Promise<Server>;
}

const INGEST_TARGETS: IngestTarget[] = [
  { key: 'registryOn', label: 'registry (group commit on)', start: (ctx, db) => startRegistry(ctx, 'registry', db, true) },
  { key: 'registryOff', label: 'registry (group commit off)', start: (ctx, db) => startRegistry(ctx, 'registry', db, false) },
  { key: 'minimal', label: 'minimal receiver', start: (ctx, db) => startReference(ctx, 'minimal receiver', 'minimal-receiver.ts', db) },
  { key: 'docs', label: 'docs baseline', start: (ctx, db) => startReference(ctx, 'docs baseline', 'docs-baseline.ts', db) },
];

interface IngestRun extends MeteredResult {
  stored: number;
}

async function benchIngest(ctx: Context) {
  const { settings } = ctx;
  const runsByTarget = new Map<IngestTarget['key'], IngestRun[]>();
  // Targets are interleaved run by run, so a noisy minute on a shared machine hits all of them.
  for (let run = 1; run <= settings.runs; run++) {
    for (const target of INGEST_TARGETS) {
      log(`ingest: ${target.label}, run ${run}/${settings.runs}`);
      const dbPath = freshDbPath(ctx, target.key);
      const server = await target.start(ctx, dbPath);
      let result: MeteredResult;
      try {
        const spec: LoadSpec = {
          url: server.url,
          connections: settings.connections,
          requests: [{ method: 'POST', path: '/webhooks/wix', headers: { 'content-type': 'text/plain' }, bodiesFile: ctx.poolFile }],
          warmup: { durationSec: settings.ingest.warmupSec },
          measure: { durationSec: settings.ingest.measureSec },
          uniqueBodies: true,
        };
        result = await runLoad(spec, server.pid);
      } finally {
        await stopServer(server);
        resetFakeWixCalls(ctx);
      }
      let stored = -1;
      try {
        stored = countInstallations(dbPath);
      } catch {
        // the reference may use another file layout; the check is best effort
      }
      removeDb(dbPath);
      if (stored >= 0 && stored < result.ok) log(`  WARNING: ${target.label} answered 2xx ${result.ok} times but stored ${stored} rows`);
      log(
        `  ${int(result.okRps)} accepted/s, p50 ${ms(result.p50)}, p99 ${ms(result.p99)}, non-2xx ${result.non2xx}, errors ${result.errors}, ` +
          `CPU ${ms(result.cpuMsPerRequest)}/req (${pct(result.cpuPercent)}, waited for a CPU ${pct(result.runQueueWaitPercent)}), RSS ${mb(result.rssMb)}${result.durationSec < settings.ingest.measureSec - 0.5 ? ` (pool used up after ${result.durationSec.toFixed(1)} s)` : ''}`,
      );
      runsByTarget.set(target.key, [...(runsByTarget.get(target.key) ?? []), { ...result, stored }]);
    }
  }

  const summary = Object.fromEntries(
    INGEST_TARGETS.map((target) => {
      const runs = runsByTarget.get(target.key) ?? [];
      return [
        target.key,
        {
          label: target.label,
          acceptedPerSec: median(runs.map((r) => r.okRps)),
          p50: median(runs.map((r) => r.p50)),
          p99: median(runs.map((r) => r.p99)),
          non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
          errors: runs.reduce((s, r) => s + r.errors, 0),
          cpuPercent: median(runs.map((r) => r.cpuPercent)),
          cpuMsPerRequest: median(runs.map((r) => r.cpuMsPerRequest)),
          runQueueWaitPercent: median(runs.map((r) => r.runQueueWaitPercent)),
          rssMb: Math.max(...runs.map((r) => r.rssMb)),
          lost: runs.reduce((s, r) => s + (r.stored >= 0 ? Math.max(0, r.ok - r.stored) : 0), 0),
          runs,
        },
      ];
    }),
  ) as Record<IngestTarget['key'], { label: string; acceptedPerSec: number; p50: number; p99: number; non2xx: number; errors: number; cpuPercent: number; cpuMsPerRequest: number; runQueueWaitPercent: number; rssMb: number; lost: number; runs: IngestRun[] }>;

  const S = 'Ingest';
  for (const target of INGEST_TARGETS) {
    const s = summary[target.key];
    const main = target.key === 'registryOn';
    row(S, `${s.label}: accepted/s`, int(s.acceptedPerSec));
    row(S, `${s.label}: p50 / p99`, `${ms(s.p50)} / ${ms(s.p99)}`, main ? 'p99 ≤ 25 ms' : '', main ? s.p99 <= 25 : null);
    const failed = s.non2xx + s.errors + s.lost;
    row(S, `${s.label}: failed (non-2xx + errors + lost)`, `${int(s.non2xx)} + ${int(s.errors)} + ${int(s.lost)}`, '0', failed === 0);
    row(
      S,
      `${s.label}: server CPU per request / CPU% (waiting for a CPU) / max RSS`,
      `${ms(s.cpuMsPerRequest)} / ${pct(s.cpuPercent)} (${pct(s.runQueueWaitPercent)}) / ${mb(s.rssMb)}`,
    );
  }
  const on = summary.registryOn.acceptedPerSec;
  const off = summary.registryOff.acceptedPerSec;
  const ratios = {
    registryOverMinimal: on / summary.minimal.acceptedPerSec,
    registryOverDocs: on / summary.docs.acceptedPerSec,
    registryOffOverMinimal: off / summary.minimal.acceptedPerSec,
    registryOffOverDocs: off / summary.docs.acceptedPerSec,
    groupCommitGain: on / off,
    // CPU cost per request: what the throughput ratio would be if each server had the CPU to itself.
    registryOverMinimalByCpu: summary.minimal.cpuMsPerRequest / summary.registryOn.cpuMsPerRequest,
    registryOverDocsByCpu: summary.docs.cpuMsPerRequest / summary.registryOn.cpuMsPerRequest,
  };
  row(S, 'registry ÷ minimal receiver (accepted/s)', times(ratios.registryOverMinimal), '≥ 1.0×', ratios.registryOverMinimal >= 1.0);
  row(S, 'registry ÷ docs baseline (accepted/s)', times(ratios.registryOverDocs), '≥ 3×', ratios.registryOverDocs >= 3);
  row(S, 'registry, group commit off ÷ minimal / ÷ docs', `${times(ratios.registryOffOverMinimal)} / ${times(ratios.registryOffOverDocs)}`);
  row(S, 'group commit on ÷ off (accepted/s)', times(ratios.groupCommitGain));
  row(
    S,
    'same ratios by CPU cost per request (÷ minimal / ÷ docs)',
    `${times(ratios.registryOverMinimalByCpu)} / ${times(ratios.registryOverDocsByCpu)}`,
  );
  return { settings: settings.ingest, connections: settings.connections, targets: summary, ratios };
}

/**
 * Polls GET /v1/stats until the outbox has no pending or running job. Returns the seconds it
 * took, or null when the stats carry no outbox counts. Gives up (and says so) after timeoutMs.
 */
async function waitForOutboxIdle(ctx: Context, url: string, timeoutMs: number): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const res = await fetch(`${url}/v1/stats`, { headers: auth(ctx) });
    const stats = (await res.json()) as { outbox?: Record<string, number> };
    if (!stats.outbox) return null;
    if ((stats.outbox.pending ?? 0) + (stats.outbox.running ?? 0) === 0) return (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 250));
  }
  log(`  outbox still busy after ${timeoutMs / 1000} s; measuring anyway`);
  return (performance.now() - started) / 1000;
}

// ---- 2. token API ------------------------------------------------------------------------------

/**
 * ==== STUB: Token API =========================================================================
 * Needs POST /v1/installations/:instanceId/access-token (Authorization: Bearer <key>, answering
 * { accessToken, expiresAt }), which is being built right now. The measurement is written in full;
 * while the route answers 404 ("No such route") the section reports "not available yet" instead
 * of failing. Seeds 1,000 active installs through signed AppInstalled webhooks, then sends 10,000
 * access-token requests at 50 connections spread over those 1,000 instances, counts the token
 * requests the fake Wix received meanwhile, and compares the rate with Hono's hello world.
 * ===============================================================================================
 */
async function benchTokenApi(ctx: Context) {
  const { settings } = ctx;
  const S = 'Token API';
  const hello: MeteredResult[] = [];
  const registry: (MeteredResult & { upstreamTokenRequests: number; upstreamDuringSeed: number; outboxDrainSec: number | null })[] = [];
  let unavailable: string | null = null;
  const installs = ctx.pool.slice(0, settings.tokens.installs);
  const pathsFile = writeLines(
    'access-token-paths.txt',
    installs.map((d) => `/v1/installations/${encodeURIComponent(d.instanceId)}/access-token`),
  );

  for (let run = 1; run <= settings.runs; run++) {
    log(`tokens: hello world, run ${run}/${settings.runs}`);
    const helloServer = await startReference(ctx, 'hello world', 'hello-world.ts', null);
    try {
      hello.push(
        await runLoad(
          {
            url: helloServer.url,
            connections: settings.connections,
            requests: [{ method: 'GET', path: '/' }],
            warmup: { durationSec: settings.tokens.helloWarmupSec },
            measure: { amount: settings.tokens.requests },
          },
          helloServer.pid,
        ),
      );
    } finally {
      await stopServer(helloServer);
    }
    log(`  ${int(hello.at(-1)!.okRps)} req/s, p99 ${ms(hello.at(-1)!.p99)}`);

    if (unavailable) continue;
    log(`tokens: registry, run ${run}/${settings.runs}`);
    const dbPath = freshDbPath(ctx, 'tokens');
    const server = await startRegistry(ctx, 'registry', dbPath);
    try {
      resetFakeWixCalls(ctx);
      const failedSeeds = await postDeliveries(server.url, installs);
      if (failedSeeds > 0) throw new Error(`seeding the token benchmark: ${failedSeeds} of ${installs.length} webhooks were not accepted`);
      // Probe one instance: a 404 for the route means the endpoint is not there yet.
      const probe = await fetch(`${server.url}/v1/installations/${encodeURIComponent(installs[0]!.instanceId)}/access-token`, {
        method: 'POST',
        headers: auth(ctx),
      });
      const probeText = await probe.text();
      // The endpoint's own 404 names the instance; the router's says there is no such route.
      if ((probe.status === 404 && !/No installation/i.test(probeText)) || probe.status === 405) {
        unavailable = `POST /v1/installations/:instanceId/access-token answered ${probe.status}: ${probeText.slice(0, 160)}`;
        log(`  not available yet (${unavailable})`);
        continue;
      }
      let probeBody: { accessToken?: unknown; expiresAt?: unknown } = {};
      try {
        probeBody = JSON.parse(probeText) as typeof probeBody;
      } catch {
        // checked below
      }
      if (probe.status !== 200 || typeof probeBody.accessToken !== 'string' || typeof probeBody.expiresAt !== 'string') {
        throw new Error(`access-token probe answered ${probe.status} ${probeText.slice(0, 300)}; expected 200 {accessToken, expiresAt}`);
      }
      // The seeded installs give the outbox work (tokens, Get App Instance, BI events): let it
      // finish first, so the figures are the token API's own.
      const drainedSec = await waitForOutboxIdle(ctx, server.url, 90_000);
      if (drainedSec !== null) log(`  outbox idle ${drainedSec.toFixed(1)} s after seeding`);
      const upstreamDuringSeed = ctx.fakeWix.callsTo('token').length;
      const result = await runLoad(
        {
          url: server.url,
          connections: settings.connections,
          requests: [{ method: 'POST', path: '/', headers: auth(ctx), pathsFile }],
          measure: { amount: settings.tokens.requests },
        },
        server.pid,
      );
      const upstreamTokenRequests = ctx.fakeWix.callsTo('token').length - upstreamDuringSeed;
      registry.push({ ...result, upstreamTokenRequests, upstreamDuringSeed, outboxDrainSec: drainedSec });
      log(
        `  ${int(result.okRps)} tokens/s, p50 ${ms(result.p50)}, p99 ${ms(result.p99)}, non-2xx ${result.non2xx}, ` +
          `upstream token requests ${upstreamTokenRequests} (+${upstreamDuringSeed} while seeding)`,
      );
    } finally {
      await stopServer(server);
      resetFakeWixCalls(ctx);
      removeDb(dbPath);
    }
  }

  const helloRps = median(hello.map((r) => r.okRps));
  row(S, 'hello world (Hono): req/s', int(helloRps));
  if (unavailable) {
    row(S, 'registry access-token: tokens/s', 'not available yet', 'info', null);
    return { status: 'not available yet', reason: unavailable, hello: { rps: helloRps, runs: hello } };
  }
  const tokenRps = median(registry.map((r) => r.okRps));
  const p50 = median(registry.map((r) => r.p50));
  const p99 = median(registry.map((r) => r.p99));
  const failed = registry.reduce((s, r) => s + r.non2xx + r.errors, 0);
  // The outbox also asks Wix for tokens while the installs are seeded: the broker's cache is shared,
  // so "one per instance" is judged on seeding + run together.
  const upstream = Math.max(...registry.map((r) => r.upstreamTokenRequests));
  const upstreamTotal = Math.max(...registry.map((r) => r.upstreamTokenRequests + r.upstreamDuringSeed));
  row(S, `registry access-token: tokens/s (${int(settings.tokens.requests)} over ${int(settings.tokens.installs)} instances)`, int(tokenRps));
  row(S, 'registry access-token: p50 / p99', `${ms(p50)} / ${ms(p99)}`);
  row(S, 'registry access-token ÷ hello world (req/s)', times(tokenRps / helloRps));
  row(S, 'registry access-token: failed (non-2xx + errors)', int(failed), '0', failed === 0);
  row(
    S,
    'upstream token requests to Wix: during the 10k requests / with seeding (max per run)',
    `${int(upstream)} / ${int(upstreamTotal)}`,
    `≤ ${int(settings.tokens.installs)} in all (one per instance)`,
    upstreamTotal <= settings.tokens.installs,
  );
  row(
    S,
    'registry access-token: server CPU per request / CPU% (waiting for a CPU) / max RSS',
    `${ms(median(registry.map((r) => r.cpuMsPerRequest)))} / ${pct(median(registry.map((r) => r.cpuPercent)))} ` +
      `(${pct(median(registry.map((r) => r.runQueueWaitPercent)))}) / ${mb(Math.max(...registry.map((r) => r.rssMb)))}`,
  );
  row(S, 'hello world: server CPU per request', ms(median(hello.map((r) => r.cpuMsPerRequest))));
  const drains = registry.map((r) => r.outboxDrainSec).filter((x): x is number => x !== null);
  if (drains.length > 0) {
    row(S, `outbox idle after seeding ${int(settings.tokens.installs)} installs (before the token requests)`, `${median(drains).toFixed(1)} s`);
  }
  return {
    status: 'measured',
    hello: { rps: helloRps, runs: hello },
    registry: { rps: tokenRps, p50, p99, failed, upstreamTokenRequests: upstream, upstreamTokenRequestsWithSeeding: upstreamTotal, ratioToHello: tokenRps / helloRps, runs: registry },
  };
}

// ---- 3. queries at scale -------------------------------------------------------------------------

/**
 * Reads the database file once so the queries run on a warm page cache, as on a server that has
 * been up for a while: the figures are the registry's, not this machine's disk. Returns seconds.
 */
async function warmPageCache(path: string): Promise<number> {
  const started = performance.now();
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(16 << 20);
    for (let position = 0; ; ) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
    }
  } finally {
    await file.close();
  }
  return (performance.now() - started) / 1000;
}

/**
 * Cursors that start pages deep inside the list. The cursor is opaque to clients, so it is not
 * built here from the registry's code: the first page's nextCursor is decoded (base64url JSON),
 * the last item's installedAt and instanceId are located in it and replaced with those of random
 * rows. If the cursor does not look like that, the list is walked instead (500 rows a page) and
 * the cursors met on the way are used.
 */
async function deepCursors(ctx: Context, url: string, rows: { instanceId: string; installedAt: number }[]): Promise<string[]> {
  const first = await fetch(`${url}/v1/installations?limit=1`, { headers: auth(ctx) });
  const page = (await first.json()) as { items?: { instanceId?: string; installedAt?: string }[]; nextCursor?: string | null };
  const item = page.items?.[0];
  if (first.status !== 200 || !item || !page.nextCursor) throw new Error(`GET /v1/installations answered ${first.status} without items or nextCursor`);
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
        JSON.stringify(walk(template, (leaf) => (leaf === installedAt ? row.installedAt : leaf === item.instanceId ? row.instanceId : leaf))),
      ).toString('base64url'),
    );
  }
  log('  the list cursor is not [installedAt, instanceId]-shaped: walking the list for deep cursors instead');
  const cursors: string[] = [];
  let cursor: string | null = page.nextCursor;
  for (let i = 0; i < 100 && cursor; i++) {
    const res = await fetch(`${url}/v1/installations?limit=500&cursor=${encodeURIComponent(cursor)}`, { headers: auth(ctx) });
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
}

async function benchQueries(ctx: Context) {
  const { settings } = ctx;
  const S = 'Queries (1M)';
  const seeded = await seededDatabase({
    scale: { installations: settings.queries.installations },
    env: registryEnv(ctx, '', 0, true),
    log,
  });
  log(
    `queries: database ${seeded.path} (${mb(seeded.sizeMb)}, ${seeded.cached ? 'cached' : `seeded in ${seeded.seconds.toFixed(0)} s`}): ` +
      `${int(seeded.counts.installations)} installations, ${int(seeded.counts.events)} events`,
  );
  const sample = sampleRows(seeded.path, 1_000, 7);
  const getPaths = writeLines('get-paths.txt', sample.map((r) => `/v1/installations/${encodeURIComponent(r.instanceId)}`));
  let deepPaths = '';
  const cases: QueryCase[] = [
    { key: 'list', label: 'GET /v1/installations', targetMs: 10, request: { path: '/v1/installations' } },
    { key: 'listActive', label: 'GET /v1/installations?status=active', targetMs: 10, request: { path: '/v1/installations?status=active' } },
    { key: 'listRemoved', label: 'GET /v1/installations?status=removed', targetMs: 10, request: { path: '/v1/installations?status=removed' } },
    { key: 'listDeep', label: 'GET /v1/installations?cursor=<deep>', targetMs: 10, request: {} },
    { key: 'get', label: 'GET /v1/installations/:id (random)', targetMs: 5, request: { pathsFile: getPaths } },
    { key: 'stats', label: 'GET /v1/stats', targetMs: 50, request: { path: '/v1/stats' } },
  ];

  const startups: number[] = [];
  const rssAfterStart: number[] = [];
  const rssAfterQueries: number[] = [];
  const results = new Map<string, MeteredResult[]>();
  for (let run = 1; run <= settings.runs; run++) {
    const warmSec = await warmPageCache(seeded.path);
    log(`queries: registry on the seeded database, run ${run}/${settings.runs} (page cache warmed in ${warmSec.toFixed(1)} s)`);
    const server = await startRegistry(ctx, 'registry', seeded.path);
    try {
      if (!deepPaths) {
        const cursors = await deepCursors(ctx, server.url, sample.slice(0, 200));
        deepPaths = writeLines('deep-paths.txt', cursors.map((c) => `/v1/installations?cursor=${encodeURIComponent(c)}`));
        const deepCase = cases.find((c) => c.key === 'listDeep')!;
        deepCase.request = { pathsFile: deepPaths };
      }
      startups.push(server.startupMs);
      rssAfterStart.push(rssMb(server.pid));
      log(`  ready in ${ms(server.startupMs)}, RSS ${mb(rssAfterStart.at(-1)!)}`);
      for (const c of cases) {
        const result = await runLoad(
          {
            url: server.url,
            connections: settings.queries.connections,
            requests: [{ method: 'GET', headers: auth(ctx), ...c.request }],
            warmup: { durationSec: settings.queries.warmupSec },
            measure: { durationSec: settings.queries.measureSec, maxRequests: settings.queries.maxRequests },
          },
          server.pid,
        );
        results.set(c.key, [...(results.get(c.key) ?? []), result]);
        log(`  ${c.label}: p50 ${ms(result.p50)}, p99 ${ms(result.p99)}, ${int(result.rps)} req/s, non-2xx ${result.non2xx}`);
      }
      rssAfterQueries.push(rssMb(server.pid));
      log(`  RSS after the queries ${mb(rssAfterQueries.at(-1)!)}`);
    } finally {
      await stopServer(server);
    }
  }

  row(S, 'seeded database', `${int(seeded.counts.installations)} installs (${int(seeded.counts.active)} active), ${int(seeded.counts.events)} events, ${mb(seeded.sizeMb)}`);
  const startup = median(startups);
  row(S, 'startup (spawn → /readyz 200)', ms(startup));
  const rssStart = Math.max(...rssAfterStart);
  const rssEnd = Math.max(...rssAfterQueries);
  row(S, 'RSS after start', mb(rssStart), '≤ 250 MB', rssStart <= 250);
  row(S, 'RSS after the queries', mb(rssEnd), '≤ 250 MB', rssEnd <= 250);
  const perCase: Record<string, unknown> = {};
  for (const c of cases) {
    const runs = results.get(c.key) ?? [];
    const p50 = median(runs.map((r) => r.p50));
    const p99 = median(runs.map((r) => r.p99));
    const failed = runs.reduce((s, r) => s + r.non2xx + r.errors, 0);
    const rps = median(runs.map((r) => r.rps));
    const ok = p99 <= c.targetMs && failed === 0;
    row(S, `${c.label}: p99 (p50)`, `${ms(p99)} (${ms(p50)})${failed ? `, ${int(failed)} failed` : ''}`, `≤ ${c.targetMs} ms, 0 failed`, ok);
    perCase[c.key] = { label: c.label, targetMs: c.targetMs, p50, p99, rps, failed, runs };
  }
  return {
    database: { ...seeded },
    connections: settings.queries.connections,
    startupMs: startup,
    startupRuns: startups,
    rssAfterStartMb: rssStart,
    rssAfterQueriesMb: rssEnd,
    cases: perCase,
  };
}

// ---- 4. soak ------------------------------------------------------------------------------------

async function benchSoak(ctx: Context) {
  const { settings } = ctx;
  const S = `Soak (${settings.soak.durationSec} s)`;
  const dbPath = freshDbPath(ctx, 'soak');
  log(`soak: ${settings.soak.durationSec} s of webhooks + list + get against the registry`);
  const server = await startRegistry(ctx, 'registry', dbPath);
  try {
    const seed = ctx.pool.slice(0, settings.soak.seedInstalls);
    const failedSeeds = await postDeliveries(server.url, seed);
    if (failedSeeds > 0) throw new Error(`seeding the soak: ${failedSeeds} webhooks were not accepted`);
    const bodiesFile = writeLines('soak-bodies.txt', ctx.pool.slice(settings.soak.seedInstalls).map((d) => d.jwt));
    const getPaths = writeLines('soak-get-paths.txt', seed.map((d) => `/v1/installations/${encodeURIComponent(d.instanceId)}`));
    const rssStart = rssMb(server.pid);
    const result = await runLoad(
      {
        url: server.url,
        connections: settings.connections,
        requests: [
          { method: 'POST', path: '/webhooks/wix', headers: { 'content-type': 'text/plain' }, bodiesFile },
          { method: 'GET', path: '/v1/installations', headers: auth(ctx) },
          { method: 'GET', headers: auth(ctx), pathsFile: getPaths },
        ],
        measure: { durationSec: settings.soak.durationSec },
      },
      server.pid,
    );
    const rssEnd = rssMb(server.pid);
    const failed = result.non2xx + result.errors;
    log(`  ${int(result.rps)} req/s, p99 ${ms(result.p99)}, failed ${failed}, RSS ${mb(rssStart)} → ${mb(rssEnd)} (max ${mb(result.rssMb)})`);
    row(S, 'mixed req/s (1/3 webhooks, 1/3 list, 1/3 get)', int(result.rps));
    row(S, 'p50 / p99', `${ms(result.p50)} / ${ms(result.p99)}`);
    row(S, 'failed (non-2xx + errors)', int(failed), '0', failed === 0);
    row(S, 'RSS start → end (max)', `${mb(rssStart)} → ${mb(rssEnd)} (${mb(result.rssMb)})`, 'end ≤ 250 MB', rssEnd <= 250);
    row(S, 'server CPU per request / CPU% (waiting for a CPU)', `${ms(result.cpuMsPerRequest)} / ${pct(result.cpuPercent)} (${pct(result.runQueueWaitPercent)})`);
    if (result.wrapped > 0) row(S, 'webhook bodies re-sent (pool wrapped; answered as duplicates)', int(result.wrapped));
    return { durationSec: settings.soak.durationSec, rssStartMb: rssStart, rssEndMb: rssEnd, result };
  } finally {
    await stopServer(server);
    resetFakeWixCalls(ctx);
    removeDb(dbPath);
  }
}

// ---- main ---------------------------------------------------------------------------------------

function printTable(): string {
  const lines = ['| Section | Figure | Value | Target | Result |', '|---|---|---|---|---|'];
  for (const r of rows) {
    const result = r.pass === null ? '' : r.pass ? 'pass' : '**FAIL**';
    lines.push(`| ${r.section} | ${r.figure} | ${r.value} | ${r.target} | ${result} |`);
  }
  return lines.join('\n');
}

async function main() {
  const settings = parseSettings(process.argv.slice(2));
  const work = mkdtempSync(join(tmpdir(), 'wix-registry-bench-dbs-'));
  installCleanup(() => rmSync(work, { recursive: true, force: true }));
  const startedAt = new Date();
  const loadBefore = loadavg();
  log(
    `wix-registry bench: ${settings.quick ? 'quick' : 'full'}, ${settings.runs} run(s) per figure, sections: ${settings.sections.join(', ')}; ` +
      `${cpus().length} CPUs, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );

  const needsPool = settings.sections.some((s) => s !== 'queries');
  // A full run's pool (70,000) serves later quick runs too; a quick run alone signs 25,000.
  const poolSize = settings.sections.includes('ingest') ? settings.ingest.poolSize : 20_000;
  const signed = needsPool
    ? await loadOrSignPool(join(RESULTS_DIR, 'webhook-pool.json'), poolSize, log)
    : { appId: randomUUID(), key: generateSigningKey(), deliveries: [] as SignedDelivery[] };
  const { appId, key } = signed;
  const pool = signed.deliveries;
  const appSecret = randomBytes(24).toString('base64url');
  const fakeWix = createFakeWix({ appId, appSecret });
  const listening = await listenLocal(fakeWix.app);
  const ctx: Context = {
    settings,
    key,
    appId,
    appSecret,
    apiKey: randomBytes(16).toString('hex'),
    fakeWix,
    fakeWixUrl: listening.url,
    pool,
    poolFile: writeLines('pool.txt', pool.map((d) => d.jwt)),
    work,
  };

  const sections: Record<string, unknown> = {};
  const run = async (name: Section, fn: (ctx: Context) => Promise<unknown>) => {
    if (!settings.sections.includes(name)) return;
    const t = performance.now();
    try {
      sections[name] = await fn(ctx);
    } catch (err) {
      // One broken section must not hide the others' figures.
      const message = (err as Error).message ?? String(err);
      log(`${name}: FAILED: ${message}`);
      row(name, 'section failed to run', message.split('\n')[0]!.slice(0, 160), 'runs', false);
      sections[name] = { error: message };
    }
    log(`${name}: ${((performance.now() - t) / 1000).toFixed(0)} s`);
  };
  await run('ingest', benchIngest);
  await run('tokens', benchTokenApi);
  await run('queries', benchQueries);
  await run('soak', benchSoak);
  await listening.close();

  const table = printTable();
  const loadAfter = loadavg();
  process.stdout.write(`\n${table}\n\n`);
  process.stdout.write(
    `${settings.quick ? 'Quick' : 'Full'} run, ${settings.runs} run(s) per figure (median), ${cpus().length} CPUs; ` +
      `load average before ${loadBefore[0]!.toFixed(2)}, after ${loadAfter[0]!.toFixed(2)}. ` +
      `Figures on a shared machine are noisy.\n`,
  );
  mkdirSync(RESULTS_DIR, { recursive: true });
  const out = join(RESULTS_DIR, 'latest.json');
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        settings,
        machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, totalMemMb: Math.round(totalmem() / 1048576), node: process.version, loadBefore, loadAfter },
        repo: REPO_ROOT,
        sections,
        table: rows,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`Wrote ${out}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
