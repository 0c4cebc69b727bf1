/**
 * Soak: 60 s (quick 10 s) of mixed traffic against one registry at 50 connections, each
 * connection cycling webhook (new instances) → list → get (1,000 seeded instances). Target:
 * 0 failed, RSS at the end ≤ 250 MB.
 */
import { authHeaders, postDeliveries, resetFakeWixCalls, type Context } from '../lib/context.ts';
import { runLoad, writeLines } from '../lib/load-client.ts';
import { rssMb } from '../lib/proc.ts';
import { int, log, mb, ms, pct } from '../lib/report.ts';
import { startRegistry, stopServer } from '../lib/servers.ts';

export async function benchSoak(ctx: Context) {
  const { settings, report } = ctx;
  const S = `Soak (${settings.soak.durationSec} s)`;
  log(`soak: ${settings.soak.durationSec} s of webhooks + list + get against the registry`);
  const database = await ctx.engine.freshDatabase('soak');
  const server = await startRegistry(ctx, database.url);
  try {
    const seed = ctx.pool.slice(0, settings.soak.seedInstalls);
    const failedSeeds = await postDeliveries(server.url, seed);
    if (failedSeeds > 0) throw new Error(`seeding the soak: ${failedSeeds} webhooks were not accepted`);
    const bodiesFile = writeLines(
      'soak-bodies.txt',
      ctx.pool.slice(settings.soak.seedInstalls).map((d) => d.jwt),
    );
    const getPaths = writeLines(
      'soak-get-paths.txt',
      seed.map((d) => `/v1/installations/${encodeURIComponent(d.instanceId)}`),
    );
    const rssStart = rssMb(server.pid);
    const result = await runLoad(
      {
        url: server.url,
        connections: settings.connections,
        requests: [
          { method: 'POST', path: '/webhooks/wix', headers: { 'content-type': 'text/plain' }, bodiesFile },
          { method: 'GET', path: '/v1/installations', headers: authHeaders(ctx) },
          { method: 'GET', headers: authHeaders(ctx), pathsFile: getPaths },
        ],
        measure: { durationSec: settings.soak.durationSec },
      },
      server.pid,
    );
    const rssEnd = rssMb(server.pid);
    const failed = result.non2xx + result.errors;
    log(
      `  ${int(result.rps)} req/s, p99 ${ms(result.p99)}, failed ${failed}, RSS ${mb(rssStart)} → ${mb(rssEnd)} (max ${mb(result.rssMb)})`,
    );
    report.row(S, 'mixed req/s (1/3 webhooks, 1/3 list, 1/3 get)', int(result.rps));
    report.row(S, 'p50 / p99', `${ms(result.p50)} / ${ms(result.p99)}`);
    report.row(S, 'failed (non-2xx + errors)', int(failed), '0', failed === 0);
    report.row(S, 'RSS start → end (max)', `${mb(rssStart)} → ${mb(rssEnd)} (${mb(result.rssMb)})`, 'end ≤ 250 MB', rssEnd <= 250);
    report.row(
      S,
      'server CPU per request / CPU% (waiting for a CPU)',
      `${ms(result.cpuMsPerRequest)} / ${pct(result.cpuPercent)} (${pct(result.runQueueWaitPercent)})`,
    );
    if (result.wrapped > 0) report.row(S, 'webhook bodies re-sent (pool wrapped; answered as duplicates)', int(result.wrapped));
    return { durationSec: settings.soak.durationSec, rssStartMb: rssStart, rssEndMb: rssEnd, result };
  } finally {
    await stopServer(server);
    resetFakeWixCalls(ctx);
    await database.drop();
  }
}
