/**
 * Ingest: webhook deliveries per second at 50 connections, the registry against the minimal
 * receiver and the docs baseline, every server on the same one core. (Group commit is how the
 * registry's writer thread works, not a switch: there is no "off" to compare with.)
 * Targets (issue 8): registry ÷ minimal ≥ 1.0×, ÷ docs ≥ 3×, p99 ≤ 25 ms, 0 failed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { resetFakeWixCalls, type Context } from '../lib/context.ts';
import { runLoad, type MeteredResult } from '../lib/load-client.ts';
import { int, log, mb, median, ms, pct, sum, times } from '../lib/report.ts';
import { countSqliteInstallations } from '../lib/seed-sqlite.ts';
import { startReference, startRegistry, stopServer, type Server } from '../lib/servers.ts';

type TargetKey = 'registry' | 'minimal' | 'docs';

interface Target {
  key: TargetKey;
  label: string;
  /** Starts the server on a fresh database; `stored()` counts its installations after it stopped. */
  start(ctx: Context): Promise<{ server: Server; stored: () => Promise<number>; drop: () => Promise<void> }>;
}

const registryTarget = (key: TargetKey, label: string): Target => ({
  key,
  label,
  async start(ctx) {
    const database = await ctx.engine.freshDatabase(key);
    const server = await startRegistry(ctx, database.url);
    return { server, stored: () => database.countInstallations(), drop: () => database.drop() };
  },
});

/** The references always write SQLite: they are fixed yardsticks, whatever the registry's engine. */
const referenceTarget = (key: TargetKey, label: string, file: string): Target => ({
  key,
  label,
  async start(ctx) {
    const dir = mkdtempSync(join(ctx.work, `${key}-`));
    const path = join(dir, `${key}.db`);
    const server = await startReference(ctx, label, file, path);
    return { server, stored: async () => countSqliteInstallations(path), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  },
});

const TARGETS: Target[] = [
  registryTarget('registry', 'registry'),
  referenceTarget('minimal', 'minimal receiver', 'minimal-receiver.ts'),
  referenceTarget('docs', 'docs baseline', 'docs-baseline.ts'),
];

interface IngestRun extends MeteredResult {
  /** Installations found after the server stopped; -1 when they could not be counted. */
  stored: number;
}

export async function benchIngest(ctx: Context) {
  const { settings, report } = ctx;
  const runsByTarget = new Map<TargetKey, IngestRun[]>();
  // Targets are interleaved run by run, so a noisy minute on a shared machine hits all of them.
  for (let run = 1; run <= settings.runs; run++) {
    for (const target of TARGETS) {
      log(`ingest: ${target.label}, run ${run}/${settings.runs}`);
      const { server, stored: countStored, drop } = await target.start(ctx);
      let result: MeteredResult;
      try {
        result = await runLoad(
          {
            url: server.url,
            connections: settings.connections,
            requests: [{ method: 'POST', path: '/webhooks/wix', headers: { 'content-type': 'text/plain' }, bodiesFile: ctx.poolFile }],
            warmup: { durationSec: settings.ingest.warmupSec },
            measure: { durationSec: settings.ingest.measureSec },
            uniqueBodies: true,
          },
          server.pid,
        );
      } finally {
        await stopServer(server);
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
  const summary = Object.fromEntries(TARGETS.map((t) => [t.key, summarize(t)])) as Record<TargetKey, ReturnType<typeof summarize>>;

  const S = 'Ingest';
  for (const target of TARGETS) {
    const s = summary[target.key];
    const main = target.key === 'registry';
    report.row(S, `${s.label}: accepted/s`, int(s.acceptedPerSec));
    report.row(S, `${s.label}: p50 / p99`, `${ms(s.p50)} / ${ms(s.p99)}`, main ? 'p99 ≤ 25 ms' : '', main ? s.p99 <= 25 : null);
    const failed = s.non2xx + s.errors + s.lost;
    report.row(S, `${s.label}: failed (non-2xx + errors + lost)`, `${int(s.non2xx)} + ${int(s.errors)} + ${int(s.lost)}`, '0', failed === 0);
    report.row(
      S,
      `${s.label}: server CPU per request / CPU% (waiting for a CPU) / max RSS`,
      `${ms(s.cpuMsPerRequest)} / ${pct(s.cpuPercent)} (${pct(s.runQueueWaitPercent)}) / ${mb(s.rssMb)}`,
    );
  }
  const accepted = summary.registry.acceptedPerSec;
  const ratios = {
    registryOverMinimal: accepted / summary.minimal.acceptedPerSec,
    registryOverDocs: accepted / summary.docs.acceptedPerSec,
    // CPU cost per request: what the throughput ratio would be if each server had the CPU to itself.
    registryOverMinimalByCpu: summary.minimal.cpuMsPerRequest / summary.registry.cpuMsPerRequest,
    registryOverDocsByCpu: summary.docs.cpuMsPerRequest / summary.registry.cpuMsPerRequest,
  };
  report.row(S, 'registry ÷ minimal receiver (accepted/s)', times(ratios.registryOverMinimal), '≥ 1.0×', ratios.registryOverMinimal >= 1.0);
  report.row(S, 'registry ÷ docs baseline (accepted/s)', times(ratios.registryOverDocs), '≥ 3×', ratios.registryOverDocs >= 3);
  report.row(S, 'same ratios by CPU cost per request (÷ minimal / ÷ docs)', `${times(ratios.registryOverMinimalByCpu)} / ${times(ratios.registryOverDocsByCpu)}`);
  return { settings: settings.ingest, connections: settings.connections, targets: summary, ratios };
}
