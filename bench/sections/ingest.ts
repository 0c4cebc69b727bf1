/**
 * Ingest: webhook deliveries per second at 50 connections, the registry against the minimal
 * receiver and the docs baseline, every server on the same one core. (Group commit is how the
 * registry's writer works, not a switch: there is no "off" to compare with.) The registry runs on
 * every engine of the run, side by side: SQLite, PostgreSQL with one replica, and PostgreSQL with
 * two replicas on the same database (issue 9), the load split evenly over them.
 * Targets (issue 8): registry ÷ minimal ≥ 1.0×, ÷ docs ≥ 3×, p99 ≤ 25 ms, 0 failed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { resetFakeWixCalls, type Context } from '../lib/context.ts';
import { runLoad, type MeteredResult } from '../lib/load-client.ts';
import { int, log, mb, median, ms, pct, sum, times } from '../lib/report.ts';
import { countSqliteInstallations } from '../lib/seed-sqlite.ts';
import { startReference, startRegistry, startRegistryReplicas, stopServer, type Server } from '../lib/servers.ts';
import type { BenchEngine } from '../lib/engines.ts';

interface Target {
  key: string;
  label: string;
  /** The registry's targets (the references are not). */
  registry: boolean;
  /** Starts the server(s) on a fresh database; `stored()` counts its installations after they stopped. */
  start(ctx: Context): Promise<{ servers: Server[]; stored: () => Promise<number>; drop: () => Promise<void> }>;
}

const registryTarget = (engine: BenchEngine, replicas: number): Target => ({
  key: replicas > 1 ? `registry-${engine.name}-x${replicas}` : `registry-${engine.name}`,
  label: replicas > 1 ? `registry (${engine.name}, ${replicas} replicas)` : `registry (${engine.name})`,
  registry: true,
  async start(ctx) {
    const database = await engine.freshDatabase(replicas > 1 ? `ingest${replicas}` : 'ingest');
    try {
      const servers = replicas > 1 ? await startRegistryReplicas(ctx, database.url, replicas) : [await startRegistry(ctx, database.url)];
      return { servers, stored: () => database.countInstallations(), drop: () => database.drop() };
    } catch (err) {
      await database.drop();
      throw err;
    }
  },
});

/** The references always write SQLite: they are fixed yardsticks, whatever the registry's engine. */
const referenceTarget = (key: string, label: string, file: string): Target => ({
  key,
  label,
  registry: false,
  async start(ctx) {
    const dir = mkdtempSync(join(ctx.work, `${key}-`));
    const path = join(dir, `${key}.db`);
    const server = await startReference(ctx, label, file, path);
    return {
      servers: [server],
      stored: async () => countSqliteInstallations(path),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
});

/** The registry on each engine of the run (on PostgreSQL also as replicas), then the references. */
function targetsOf(ctx: Context): Target[] {
  const registries = ctx.engines
    .filter((engine) => !engine.unavailable)
    .flatMap((engine) =>
      engine.name === 'postgres' ? [registryTarget(engine, 1), registryTarget(engine, ctx.settings.replicas)] : [registryTarget(engine, 1)],
    );
  return [
    ...registries,
    referenceTarget('minimal', 'minimal receiver', 'minimal-receiver.ts'),
    referenceTarget('docs', 'docs baseline', 'docs-baseline.ts'),
  ];
}

interface IngestRun extends MeteredResult {
  /** Installations found after the server stopped; -1 when they could not be counted. */
  stored: number;
}

export async function benchIngest(ctx: Context) {
  const { settings, report } = ctx;
  const TARGETS = targetsOf(ctx);
  const runsByTarget = new Map<string, IngestRun[]>();
  // Targets are interleaved run by run, so a noisy minute on a shared machine hits all of them.
  for (let run = 1; run <= settings.runs; run++) {
    for (const target of TARGETS) {
      log(`ingest: ${target.label}, run ${run}/${settings.runs}`);
      const { servers, stored: countStored, drop } = await target.start(ctx);
      let result: MeteredResult;
      try {
        result = await runLoad(
          {
            url: servers[0]!.url,
            ...(servers.length > 1 ? { urls: servers.map((server) => server.url) } : {}),
            connections: settings.connections,
            requests: [{ method: 'POST', path: '/webhooks/wix', headers: { 'content-type': 'text/plain' }, bodiesFile: ctx.poolFile }],
            warmup: { durationSec: settings.ingest.warmupSec },
            measure: { durationSec: settings.ingest.measureSec },
            uniqueBodies: true,
          },
          servers.map((server) => server.pid),
        );
      } finally {
        await Promise.all(servers.map((server) => stopServer(server)));
        resetFakeWixCalls(ctx);
      }
      let stored = -1;
      try {
        stored = await countStored();
      } catch {
        // best effort: the "lost" figure then says nothing for this run
      }
      await drop();
      // Warm-up deliveries are stored too: fewer rows than measured 2xx answers means some were lost.
      if (stored >= 0 && stored < result.ok) log(`  WARNING: ${target.label} answered 2xx ${result.ok} times but stored ${stored} rows`);
      log(
        `  ${int(result.okRps)} accepted/s, p50 ${ms(result.p50)}, p99 ${ms(result.p99)}, non-2xx ${result.non2xx}, errors ${result.errors}, ` +
          `CPU ${ms(result.cpuMsPerRequest)}/req (${pct(result.cpuPercent)}, waited for a CPU ${pct(result.runQueueWaitPercent)}), RSS ${mb(result.rssMb)}` +
          (result.durationSec < settings.ingest.measureSec - 0.5 ? ` (pool used up after ${result.durationSec.toFixed(1)} s)` : ''),
      );
      runsByTarget.set(target.key, [...(runsByTarget.get(target.key) ?? []), { ...result, stored }]);
    }
  }

  const summarize = (target: Target) => {
    const runs = runsByTarget.get(target.key) ?? [];
    return {
      label: target.label,
      acceptedPerSec: median(runs.map((r) => r.okRps)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      non2xx: sum(runs.map((r) => r.non2xx)),
      errors: sum(runs.map((r) => r.errors)),
      cpuPercent: median(runs.map((r) => r.cpuPercent)),
      cpuMsPerRequest: median(runs.map((r) => r.cpuMsPerRequest)),
      runQueueWaitPercent: median(runs.map((r) => r.runQueueWaitPercent)),
      rssMb: Math.max(...runs.map((r) => r.rssMb)),
      lost: sum(runs.map((r) => (r.stored >= 0 ? Math.max(0, r.ok - r.stored) : 0))),
      runs,
    };
  };
  const summary = Object.fromEntries(TARGETS.map((t) => [t.key, summarize(t)])) as Record<string, ReturnType<typeof summarize>>;

  const S = 'Ingest';
  for (const engine of ctx.engines.filter((e) => e.unavailable))
    report.row(S, `registry (${engine.name})`, `not available (${engine.unavailable})`, '', null);
  for (const target of TARGETS) {
    const s = summary[target.key]!;
    const main = target.registry;
    report.row(S, `${s.label}: accepted/s`, int(s.acceptedPerSec));
    report.row(S, `${s.label}: p50 / p99`, `${ms(s.p50)} / ${ms(s.p99)}`, main ? 'p99 ≤ 25 ms' : '', main ? s.p99 <= 25 : null);
    const failed = s.non2xx + s.errors + s.lost;
    report.row(
      S,
      `${s.label}: failed (non-2xx + errors + lost)`,
      `${int(s.non2xx)} + ${int(s.errors)} + ${int(s.lost)}`,
      '0',
      failed === 0,
    );
    report.row(
      S,
      `${s.label}: server CPU per request / CPU% (waiting for a CPU) / max RSS`,
      `${ms(s.cpuMsPerRequest)} / ${pct(s.cpuPercent)} (${pct(s.runQueueWaitPercent)}) / ${mb(s.rssMb)}`,
    );
  }
  const minimal = summary.minimal!;
  const docs = summary.docs!;
  const ratios: Record<string, { overMinimal: number; overDocs: number; overMinimalByCpu: number; overDocsByCpu: number }> = {};
  for (const target of TARGETS.filter((t) => t.registry)) {
    const s = summary[target.key]!;
    const r = {
      overMinimal: s.acceptedPerSec / minimal.acceptedPerSec,
      overDocs: s.acceptedPerSec / docs.acceptedPerSec,
      // CPU cost per request: what the throughput ratio would be if each server had the CPU to itself.
      overMinimalByCpu: minimal.cpuMsPerRequest / s.cpuMsPerRequest,
      overDocsByCpu: docs.cpuMsPerRequest / s.cpuMsPerRequest,
    };
    ratios[target.key] = r;
    report.row(S, `${s.label} ÷ minimal receiver (accepted/s)`, times(r.overMinimal), '≥ 1.0×', r.overMinimal >= 1.0);
    report.row(S, `${s.label} ÷ docs baseline (accepted/s)`, times(r.overDocs), '≥ 3×', r.overDocs >= 3);
    report.row(
      S,
      `${s.label}: same ratios by CPU cost per request (÷ minimal / ÷ docs)`,
      `${times(r.overMinimalByCpu)} / ${times(r.overDocsByCpu)}`,
    );
  }
  return { settings: settings.ingest, connections: settings.connections, targets: summary, ratios };
}
