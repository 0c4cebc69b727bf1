/**
 * Token API: `POST /v1/installations/:instanceId/access-token` against Hono's hello world, both
 * on the server core, in the same run; the registry on every engine of the run, on PostgreSQL as
 * 2 replicas on one database with the requests split between them (issue 9: one token request
 * per instance across replicas). Target (issue 8): the registry's req/s ≥ 50% of hello
 * world's. Seeds 1,000 active installations through signed webhooks, waits until the outbox has
 * worked off what those installs gave it, then sends 10,000 requests at 50 connections spread
 * over the 1,000 instances, and counts the token requests Wix (the fake) received meanwhile.
 * If the route is missing (404 from the router, 405) the rows say "not available yet".
 */
import { authHeaders, postDeliveries, resetFakeWixCalls, type Context } from '../lib/context.ts';
import { runLoad, writeLines, type MeteredResult } from '../lib/load-client.ts';
import { sleep } from '../lib/proc.ts';
import { int, log, mb, median, ms, pct, sum, times } from '../lib/report.ts';
import type { BenchEngine } from '../lib/engines.ts';
import { startReference, startRegistry, startRegistryReplicas, stopServer, type Server } from '../lib/servers.ts';

/** The registry's req/s ÷ hello world's must reach this (issue 8). */
const TOKEN_TO_HELLO_TARGET = 0.5;

/**
 * Polls GET /v1/stats until the outbox has no pending or running job. Returns the seconds it
 * took, or null when the stats carry no outbox counts. Gives up (and says so) after timeoutMs.
 */
async function waitForOutboxIdle(ctx: Context, url: string, timeoutMs: number): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const res = await fetch(`${url}/v1/stats`, { headers: authHeaders(ctx) });
    const stats = (await res.json()) as { outbox?: Record<string, number> };
    if (!stats.outbox) return null;
    if ((stats.outbox.pending ?? 0) + (stats.outbox.running ?? 0) === 0) return (performance.now() - started) / 1000;
    await sleep(250);
  }
  log(`  outbox still busy after ${timeoutMs / 1000} s; measuring anyway`);
  return (performance.now() - started) / 1000;
}

type TokenRun = MeteredResult & { upstreamTokenRequests: number; upstreamDuringSeed: number; outboxDrainSec: number | null };

/** The registry on one engine: one process on SQLite; on PostgreSQL, `replicas` processes on one database. */
interface TokenTarget {
  key: string;
  label: string;
  engine: BenchEngine;
  replicas: number;
}

const tokenTargets = (ctx: Context): TokenTarget[] =>
  ctx.engines
    .filter((engine) => !engine.unavailable)
    .map((engine) => {
      const replicas = engine.name === 'postgres' ? ctx.settings.replicas : 1;
      return {
        key: engine.name,
        label: replicas > 1 ? `registry (${engine.name}, ${replicas} replicas)` : `registry (${engine.name})`,
        engine,
        replicas,
      };
    });

/** One measured run of the token API on a target, or why not when the route is not there ("not available yet"). */
async function measureTokens(ctx: Context, target: TokenTarget, pathsFile: string): Promise<TokenRun | { unavailable: string }> {
  const { settings } = ctx;
  const installs = ctx.pool.slice(0, settings.tokens.installs);
  const database = await target.engine.freshDatabase('tokens');
  let servers: Server[] = [];
  try {
    servers =
      target.replicas > 1 ? await startRegistryReplicas(ctx, database.url, target.replicas) : [await startRegistry(ctx, database.url)];
    resetFakeWixCalls(ctx);
    // Seeded round-robin over the replicas, as a load balancer would.
    const shares = servers.map((_, i) => installs.filter((_, k) => k % servers.length === i));
    const failedSeeds = (
      await Promise.all(servers.map((server, i) => postDeliveries(server.url, shares[i]!, Math.ceil(50 / servers.length))))
    ).reduce((a, b) => a + b, 0);
    if (failedSeeds > 0) throw new Error(`seeding the token benchmark: ${failedSeeds} of ${installs.length} webhooks were not accepted`);
    const probe = await fetch(`${servers[0]!.url}/v1/installations/${encodeURIComponent(installs[0]!.instanceId)}/access-token`, {
      method: 'POST',
      headers: authHeaders(ctx),
    });
    const probeText = await probe.text();
    // The endpoint's own 404 names the instance; the router's says there is no such route.
    if ((probe.status === 404 && !/No installation/i.test(probeText)) || probe.status === 405) {
      return { unavailable: `POST /v1/installations/:instanceId/access-token answered ${probe.status}: ${probeText.slice(0, 160)}` };
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
    // finish first, so the figures are the token API's own. The outbox is shared: any replica's stats say.
    const drainedSec = await waitForOutboxIdle(ctx, servers[0]!.url, 90_000);
    if (drainedSec !== null) log(`  outbox idle ${drainedSec.toFixed(1)} s after seeding`);
    const upstreamDuringSeed = ctx.fakeWix.callsTo('token').length;
    const result = await runLoad(
      {
        url: servers[0]!.url,
        ...(servers.length > 1 ? { urls: servers.map((server) => server.url) } : {}),
        connections: settings.connections,
        requests: [{ method: 'POST', path: '/', headers: authHeaders(ctx), pathsFile }],
        measure: { amount: settings.tokens.requests },
      },
      servers.map((server) => server.pid),
    );
    const upstreamTokenRequests = ctx.fakeWix.callsTo('token').length - upstreamDuringSeed;
    log(
      `  ${int(result.okRps)} tokens/s, p50 ${ms(result.p50)}, p99 ${ms(result.p99)}, non-2xx ${result.non2xx}, ` +
        `upstream token requests ${upstreamTokenRequests} (+${upstreamDuringSeed} while seeding)`,
    );
    return { ...result, upstreamTokenRequests, upstreamDuringSeed, outboxDrainSec: drainedSec };
  } finally {
    await Promise.all(servers.map((server) => stopServer(server)));
    resetFakeWixCalls(ctx);
    await database.drop();
  }
}

export async function benchTokens(ctx: Context) {
  const { settings, report } = ctx;
  const S = 'Token API';
  const hello: MeteredResult[] = [];
  const targets = tokenTargets(ctx);
  const runs = new Map<string, TokenRun[]>(targets.map((t) => [t.key, []]));
  const unavailable = new Map<string, string>();
  const pathsFile = writeLines(
    'access-token-paths.txt',
    ctx.pool.slice(0, settings.tokens.installs).map((d) => `/v1/installations/${encodeURIComponent(d.instanceId)}/access-token`),
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

    for (const target of targets) {
      if (unavailable.has(target.key)) continue;
      log(`tokens: ${target.label}, run ${run}/${settings.runs}`);
      const measured = await measureTokens(ctx, target, pathsFile);
      if ('unavailable' in measured) {
        unavailable.set(target.key, measured.unavailable);
        log(`  not available yet (${measured.unavailable})`);
      } else {
        runs.get(target.key)!.push(measured);
      }
    }
  }

  const helloRps = median(hello.map((r) => r.okRps));
  report.row(S, 'hello world (Hono): req/s', int(helloRps));
  report.row(S, 'hello world: server CPU per request', ms(median(hello.map((r) => r.cpuMsPerRequest))));
  for (const engine of ctx.engines.filter((e) => e.unavailable))
    report.row(S, `registry (${engine.name})`, `not available (${engine.unavailable})`, '', null);
  const perTarget: Record<string, unknown> = {};
  for (const target of targets) {
    const L = target.label;
    if (unavailable.has(target.key)) {
      report.row(S, `${L} access-token: tokens/s`, 'not available yet', '', null);
      perTarget[target.key] = { status: 'not available yet', reason: unavailable.get(target.key) };
      continue;
    }
    const registry = runs.get(target.key)!;
    const tokenRps = median(registry.map((r) => r.okRps));
    const p50 = median(registry.map((r) => r.p50));
    const p99 = median(registry.map((r) => r.p99));
    const failed = sum(registry.map((r) => r.non2xx + r.errors));
    // The outbox also asks Wix for tokens while the installs are seeded: the broker's cache (and,
    // across replicas, the shared token row) serves both, so "one per instance" is judged on
    // seeding + run together.
    const upstream = Math.max(...registry.map((r) => r.upstreamTokenRequests));
    const upstreamTotal = Math.max(...registry.map((r) => r.upstreamTokenRequests + r.upstreamDuringSeed));
    const ratio = tokenRps / helloRps;
    report.row(
      S,
      `${L} access-token: tokens/s (${int(settings.tokens.requests)} over ${int(settings.tokens.installs)} instances)`,
      int(tokenRps),
    );
    report.row(S, `${L} access-token: p50 / p99`, `${ms(p50)} / ${ms(p99)}`);
    report.row(
      S,
      `${L} access-token ÷ hello world (req/s)`,
      times(ratio),
      `≥ ${times(TOKEN_TO_HELLO_TARGET)}`,
      ratio >= TOKEN_TO_HELLO_TARGET,
    );
    report.row(S, `${L} access-token: failed (non-2xx + errors)`, int(failed), '0', failed === 0);
    report.row(
      S,
      `${L}: upstream token requests to Wix: during the 10k requests / with seeding (max per run)`,
      `${int(upstream)} / ${int(upstreamTotal)}`,
      `≤ ${int(settings.tokens.installs)} in all (one per instance)`,
      upstreamTotal <= settings.tokens.installs,
    );
    report.row(
      S,
      `${L} access-token: server CPU per request / CPU% (waiting for a CPU) / max RSS`,
      `${ms(median(registry.map((r) => r.cpuMsPerRequest)))} / ${pct(median(registry.map((r) => r.cpuPercent)))} ` +
        `(${pct(median(registry.map((r) => r.runQueueWaitPercent)))}) / ${mb(Math.max(...registry.map((r) => r.rssMb)))}`,
    );
    const drains = registry.map((r) => r.outboxDrainSec).filter((x): x is number => x !== null);
    if (drains.length > 0) {
      report.row(
        S,
        `${L}: outbox idle after seeding ${int(settings.tokens.installs)} installs (before the token requests)`,
        `${median(drains).toFixed(1)} s`,
      );
    }
    perTarget[target.key] = {
      status: 'measured',
      label: L,
      replicas: target.replicas,
      rps: tokenRps,
      p50,
      p99,
      failed,
      upstreamTokenRequests: upstream,
      upstreamTokenRequestsWithSeeding: upstreamTotal,
      ratioToHello: ratio,
      runs: registry,
    };
  }
  return { hello: { rps: helloRps, runs: hello }, registry: perTarget };
}
