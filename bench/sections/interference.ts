/**
 * Interference (issue 8): does read traffic delay webhooks? On the seeded database (a writable
 * copy per run), a probe webhook every 25 ms, first alone and then while, at the same time,
 * 20 list loops (`limit=500`, following nextCursor), loops of 366-day daily stats and a full
 * CSV export of every installation (restarted when it ends) run against the one server on its
 * one core. The readers start a little before the probe and go on until its last probe is
 * answered or given up (30 s), so every probe meets them for its whole life. The probe and the
 * readers are separate processes on the load core (clients/probe.ts, clients/readers.ts).
 *
 * Targets: probe p99 ≤ 25 ms, max ≤ 100 ms, every probe answered 200; server RSS ≤ 250 MB.
 * Reads served per second stand beside them (webhooks first must not mean reads stop); a 503
 * to a read is a refusal (counted, not a failure).
 */
import { resetFakeWixCalls, type Context } from '../lib/context.ts';
import { startClient } from '../lib/client-process.ts';
import { writeLines } from '../lib/load-client.ts';
import { processMeter, sleep } from '../lib/proc.ts';
import type { ProbeResult } from '../lib/probe-loop.ts';
import type { ReadersResult, ReadersSpec } from '../lib/read-loops.ts';
import { int, log, mb, median, ms, pct, sum } from '../lib/report.ts';
import { startRegistry, stopServer } from '../lib/servers.ts';
import { YEAR_OF_DAILY_STATS_PATH } from './queries.ts';

const PROBE_P99_TARGET_MS = 25;
const PROBE_MAX_TARGET_MS = 100;
const RSS_TARGET_MB = 250;

interface InterferenceRun {
  alone: ProbeResult;
  probe: ProbeResult;
  readers: ReadersResult;
  cpuPercent: number;
  runQueueWaitPercent: number;
  maxRssMb: number;
}

/** A probe percentile: null means it fell on a probe that got no answer. */
const latency = (value: number | null, timeoutMs: number) => (value === null ? `no answer (> ${timeoutMs / 1000} s)` : ms(value));
const orInfinity = (value: number | null) => value ?? Infinity;

function runProbe(ctx: Context, name: string, url: string, bodiesFile: string, durationSec: number) {
  const { probeIntervalMs, probeTimeoutMs } = ctx.settings.interference;
  return startClient<ProbeResult>(name, 'bench/clients/probe.ts', {
    url,
    bodiesFile,
    intervalMs: probeIntervalMs,
    durationSec,
    timeoutMs: probeTimeoutMs,
  });
}

export async function benchInterference(ctx: Context) {
  const { settings, report } = ctx;
  const cfg = settings.interference;
  const S = 'Interference (1M)';
  const seeded = await ctx.engine.seededDatabase(cfg.installations, log);
  const perSecond = 1000 / cfg.probeIntervalMs;
  const aloneCount = Math.ceil(cfg.aloneSec * perSecond);
  const windowCount = Math.ceil(cfg.windowSec * perSecond);
  if (ctx.pool.length < aloneCount + windowCount)
    throw new Error(`the webhook pool holds ${ctx.pool.length} deliveries; the probe needs ${aloneCount + windowCount}`);
  // Each run probes a fresh copy of the database, so the same bodies serve every run.
  const aloneFile = writeLines(
    'probe-alone.txt',
    ctx.pool.slice(0, aloneCount).map((d) => d.jwt),
  );
  const windowFile = writeLines(
    'probe-window.txt',
    ctx.pool.slice(aloneCount, aloneCount + windowCount).map((d) => d.jwt),
  );

  const runs: InterferenceRun[] = [];
  for (let run = 1; run <= settings.runs; run++) {
    const copyStarted = performance.now();
    const database = await seeded.copy('interference');
    log(
      `interference: run ${run}/${settings.runs} on a copy of the seeded database (copied in ${((performance.now() - copyStarted) / 1000).toFixed(0)} s)`,
    );
    const server = await startRegistry(ctx, database.url);
    try {
      const aloneProbe = runProbe(ctx, 'probe (alone)', server.url, aloneFile, cfg.aloneSec);
      await aloneProbe.ready;
      aloneProbe.go();
      const alone = await aloneProbe.result;
      log(
        `  probe alone: p50 ${latency(alone.p50, cfg.probeTimeoutMs)}, p99 ${latency(alone.p99, cfg.probeTimeoutMs)}, ${alone.ok}/${alone.sent} answered 200`,
      );

      const readersSpec: ReadersSpec = {
        url: server.url,
        apiKey: ctx.apiKey,
        // The reads last as long as the probe: until its last probe is answered or given up.
        durationSec: cfg.leadInSec + cfg.windowSec + cfg.probeTimeoutMs / 1000 + 5,
        listLoops: cfg.listLoops,
        listLimit: cfg.listLimit,
        statsLoops: cfg.statsLoops,
        statsPath: YEAR_OF_DAILY_STATS_PATH,
        exportLoops: cfg.exportLoops,
        exportPath: '/v1/installations/export?format=csv',
      };
      const readers = startClient<ReadersResult>('readers', 'bench/clients/readers.ts', readersSpec);
      const probe = runProbe(ctx, 'probe', server.url, windowFile, cfg.windowSec);
      await Promise.all([readers.ready, probe.ready]);
      const meter = processMeter(server.pid);
      meter.start();
      readers.go();
      await sleep(cfg.leadInSec * 1000);
      probe.go();
      const probeResult = await probe.result;
      readers.stop();
      const readersResult = await readers.result;
      const metered = meter.stop();
      const maxRssMb = metered.maxRssMb;
      runs.push({
        alone,
        probe: probeResult,
        readers: readersResult,
        cpuPercent: metered.cpuPercent,
        runQueueWaitPercent: metered.runQueueWaitPercent,
        maxRssMb,
      });
      const r = readersResult;
      log(
        `  probe under reads: p50 ${latency(probeResult.p50, cfg.probeTimeoutMs)}, p99 ${latency(probeResult.p99, cfg.probeTimeoutMs)}, ` +
          `max ${latency(probeResult.max, cfg.probeTimeoutMs)}, ${probeResult.ok}/${probeResult.sent} answered 200, ${probeResult.unanswered} unanswered, ` +
          `${probeResult.errors} errors (sender lag ≤ ${ms(probeResult.maxSendLagMs)})`,
      );
      log(
        `  reads: ${r.lists.ok} list pages (${int(r.lists.rows)} rows), ${r.stats.ok} year stats, ${int(r.exports.rows)} export rows (${r.exports.ok} complete) ` +
          `in ${r.durationSec.toFixed(1)} s; refused ${r.lists.refused}/${r.stats.refused}/${r.exports.refused}, failed ${r.lists.failed}/${r.stats.failed}/${r.exports.failed}; ` +
          `server CPU ${pct(metered.cpuPercent)}, max RSS ${mb(maxRssMb)}`,
      );
    } finally {
      await stopServer(server);
      // The probes' installs gave the outbox work against the fake Wix, which records every call.
      resetFakeWixCalls(ctx);
      await database.drop();
    }
  }

  const timeout = cfg.probeTimeoutMs;
  const medianLatency = (pick: (r: InterferenceRun) => number | null) => {
    const value = median(runs.map((r) => orInfinity(pick(r))));
    return Number.isFinite(value) ? value : null;
  };
  const aloneP50 = medianLatency((r) => r.alone.p50);
  const aloneP99 = medianLatency((r) => r.alone.p99);
  const p50 = medianLatency((r) => r.probe.p50);
  const p99 = medianLatency((r) => r.probe.p99);
  const worst = Math.max(...runs.map((r) => orInfinity(r.probe.max)));
  const max = Number.isFinite(worst) ? worst : null;
  const sent = sum(runs.map((r) => r.probe.sent));
  const ok = sum(runs.map((r) => r.probe.ok));
  const unanswered = sum(runs.map((r) => r.probe.unanswered));
  const errors = sum(runs.map((r) => r.probe.errors));
  const otherStatus = sum(runs.map((r) => r.probe.answered - r.probe.ok));
  const rate = (pick: (r: ReadersResult) => number) => median(runs.map((r) => pick(r.readers) / r.readers.durationSec));
  const refused = (k: 'lists' | 'stats' | 'exports') => sum(runs.map((r) => r.readers[k].refused));
  const failed = (k: 'lists' | 'stats' | 'exports') => sum(runs.map((r) => r.readers[k].failed));
  const readP = (k: 'lists' | 'stats' | 'exports', p: 'p50' | 'p99') =>
    median(runs.map((r) => (r.readers[k].ok > 0 ? r.readers[k][p] : NaN)).filter(Number.isFinite));
  const maxRss = Math.max(...runs.map((r) => r.maxRssMb));
  const readFailures = failed('lists') + failed('stats') + failed('exports');
  // What the failures were: a status, or a connection error's code (a connect timeout means the
  // server did not accept the connection in time).
  const failureKinds: Record<string, number> = {};
  for (const r of runs) {
    for (const k of ['lists', 'stats', 'exports'] as const) {
      const figures = r.readers[k];
      for (const [status, n] of Object.entries(figures.statusCodes))
        if (status !== '503' && !status.startsWith('2')) failureKinds[status] = (failureKinds[status] ?? 0) + n;
      for (const [code, n] of Object.entries(figures.errorCodes)) failureKinds[code] = (failureKinds[code] ?? 0) + n;
    }
  }
  const kinds = Object.entries(failureKinds)
    .map(([kind, n]) => `${kind} × ${n}`)
    .join(', ');

  report.row(
    S,
    `probe alone (a webhook every ${cfg.probeIntervalMs} ms, ${cfg.aloneSec} s): p50 / p99`,
    `${latency(aloneP50, timeout)} / ${latency(aloneP99, timeout)}`,
  );
  report.row(
    S,
    `probe under reads (${cfg.windowSec} s): p50 / p99`,
    `${latency(p50, timeout)} / ${latency(p99, timeout)}`,
    `p99 ≤ ${PROBE_P99_TARGET_MS} ms`,
    p99 !== null && p99 <= PROBE_P99_TARGET_MS,
  );
  report.row(S, 'probe under reads: max', latency(max, timeout), `≤ ${PROBE_MAX_TARGET_MS} ms`, max !== null && max <= PROBE_MAX_TARGET_MS);
  report.row(
    S,
    `probes answered 200 (of sent; unanswered within ${timeout / 1000} s + connection errors + other status)`,
    `${int(ok)} of ${int(sent)} (${int(unanswered)} + ${int(errors)} + ${int(otherStatus)})`,
    'every one',
    ok === sent && sent > 0,
  );
  report.row(
    S,
    `reads served meanwhile: list pages/s (rows/s) · year stats/s · export rows/s`,
    `${rate((r) => r.lists.ok).toFixed(1)} (${int(rate((r) => r.lists.rows))}) · ${rate((r) => r.stats.ok).toFixed(2)} · ${int(rate((r) => r.exports.rows))}`,
  );
  report.row(
    S,
    `export: rows/s (full exports completed, ${int(seeded.summary.installations)} rows each)`,
    `${int(rate((r) => r.exports.rows))} (${int(sum(runs.map((r) => r.readers.exports.ok)))} in ${runs.length} run(s))`,
  );
  report.row(
    S,
    'read latency: list page p50 / p99 · year stats p50 / p99',
    `${ms(readP('lists', 'p50'))} / ${ms(readP('lists', 'p99'))} · ${ms(readP('stats', 'p50'))} / ${ms(readP('stats', 'p99'))}`,
  );
  report.row(
    S,
    'reads refused (503 + Retry-After): lists / stats / exports',
    `${int(refused('lists'))} / ${int(refused('stats'))} / ${int(refused('exports'))}`,
  );
  report.row(
    S,
    'reads failed (other status or connection error): lists / stats / exports',
    `${int(failed('lists'))} / ${int(failed('stats'))} / ${int(failed('exports'))}${kinds ? ` (${kinds})` : ''}`,
    '0',
    readFailures === 0,
  );
  report.row(S, 'server max RSS', mb(maxRss), `≤ ${RSS_TARGET_MB} MB`, maxRss <= RSS_TARGET_MB);
  report.row(
    S,
    'server CPU% under reads (waiting for a CPU)',
    `${pct(median(runs.map((r) => r.cpuPercent)))} (${pct(median(runs.map((r) => r.runQueueWaitPercent)))})`,
  );
  return {
    settings: cfg,
    database: seeded.url,
    probe: { aloneP50, aloneP99, p50, p99, max, sent, ok, unanswered, errors, otherStatus },
    maxRssMb: maxRss,
    runs,
  };
}
