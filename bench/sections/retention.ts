/**
 * Retention (issue 12): what a delivery weighs in the store before and after its raw JWT is
 * pruned, and whether pruning stops the file from growing. Delivers N unique signed webhooks
 * (10,000; quick 2,500) to a fresh registry, lets the outbox finish, stops it, and weighs the store
 * per delivery: the file, and the bytes in use (pages minus SQLite's freelist). Then it moves every
 * delivery's receive time past RAW_DELIVERY_RETENTION_DAYS, runs `wix-registry deliveries prune`
 * (the batches the server runs on its timer) and weighs again. Last, it delivers N more webhooks to
 * the same file and measures how much the file grew: pruning pays off only if new rows reuse the
 * pages it freed, without a VACUUM (which would lock the writer out while it copies the file).
 * One run: the figures are bytes, not timings.
 */
import { authHeaders, postDeliveries, resetFakeWixCalls, type Context } from '../lib/context.ts';
import { registryEnv } from '../lib/registry-env.ts';
import { sleep, spawnTracked } from '../lib/proc.ts';
import { int, log, pct } from '../lib/report.ts';
import { startRegistry, stopServer } from '../lib/servers.ts';
import type { SignedDelivery } from '../lib/webhooks.ts';

const DAY_MS = 86_400_000;
/** The registry's default RAW_DELIVERY_RETENTION_DAYS. */
const RETENTION_DAYS = 30;
const OUTBOX_IDLE_TIMEOUT_MS = 120_000;

const bytes = (n: number) => (Number.isFinite(n) ? `${int(n)} B` : '–');

export async function benchRetention(ctx: Context) {
  const { settings, report } = ctx;
  const S = 'Retention';
  const n = settings.retention.deliveries;
  if (ctx.pool.length < 2 * n) throw new Error(`the webhook pool holds ${ctx.pool.length} deliveries, ${2 * n} needed`);
  const first = ctx.pool.slice(0, n);
  const second = ctx.pool.slice(n, 2 * n);
  log(`retention: ${int(n)} webhooks, the store weighed, their raw JWTs pruned, weighed again, then ${int(n)} more`);
  const database = await ctx.engine.freshDatabase('retention');
  try {
    await deliverAll(ctx, database.url, first);
    const before = await database.storage();

    await database.backdateDeliveries((RETENTION_DAYS + 1) * DAY_MS);
    const prune = await runPrune(ctx, database.url);
    const pruned = await database.storage();

    await deliverAll(ctx, database.url, second);
    const refilled = await database.storage();

    const jwtBytes = first.reduce((total, d) => total + Buffer.byteLength(d.jwt), 0) / n;
    const freed = before.usedBytes - pruned.usedBytes;
    const growthAfter = refilled.fileBytes - pruned.fileBytes;
    log(
      `  per delivery: ${bytes(before.usedBytes / n)} in use → ${bytes(pruned.usedBytes / n)} after pruning (raw JWT ${bytes(jwtBytes)}); ` +
        `prune: ${int(prune.pruned)} in ${int(prune.batches)} batches, ${prune.seconds.toFixed(1)} s; the next ${int(n)} grew the file by ${bytes(growthAfter / n)} each`,
    );
    report.row(S, 'deliveries (unique AppInstalled, outbox done)', `${int(n)} + ${int(n)} after pruning`);
    report.row(S, 'raw JWT per delivery (average)', bytes(jwtBytes));
    report.row(S, 'store per delivery before pruning: file / in use', `${bytes(before.fileBytes / n)} / ${bytes(before.usedBytes / n)}`);
    report.row(
      S,
      `pruning (deliveries prune, ${RETENTION_DAYS}-day retention): JWTs dropped / batches / time`,
      `${int(prune.pruned)} / ${int(prune.batches)} / ${prune.seconds.toFixed(1)} s`,
      `${int(n)} dropped`,
      prune.pruned === n,
    );
    report.row(
      S,
      'store per delivery after pruning: file / in use (freed: on the freelist)',
      `${bytes(pruned.fileBytes / n)} / ${bytes(pruned.usedBytes / n)}`,
    );
    report.row(S, 'freed per delivery', `${bytes(freed / n)} (${pct((100 * freed) / before.usedBytes)})`);
    report.row(
      S,
      `file growth per delivery: the first ${int(n)} / the next ${int(n)}, after pruning (reusing freed pages, no VACUUM)`,
      `${bytes(before.fileBytes / n)} / ${bytes(growthAfter / n)}`,
      'less after pruning',
      growthAfter < before.fileBytes,
    );
    return { deliveries: n, jwtBytes, before, pruned, refilled, prune };
  } finally {
    await database.drop();
  }
}

/** A registry on the database, the deliveries posted, the outbox left to finish, the registry stopped. */
async function deliverAll(ctx: Context, databaseUrl: string, deliveries: readonly SignedDelivery[]): Promise<void> {
  const server = await startRegistry(ctx, databaseUrl);
  try {
    const failed = await postDeliveries(server.url, deliveries);
    if (failed > 0) throw new Error(`${failed} of ${deliveries.length} webhooks were not accepted`);
    await waitForOutboxIdle(server.url, ctx);
  } finally {
    await stopServer(server);
    resetFakeWixCalls(ctx);
  }
}

/** Until GET /v1/stats shows no pending or running job: the outbox's rows are part of what a delivery costs. */
async function waitForOutboxIdle(url: string, ctx: Context): Promise<void> {
  const deadline = performance.now() + OUTBOX_IDLE_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const stats = (await (await fetch(`${url}/v1/stats`, { headers: authHeaders(ctx) })).json()) as {
      outbox: { pending: number; running: number };
    };
    if (stats.outbox.pending + stats.outbox.running === 0) return;
    await sleep(250);
  }
  log('  note: the outbox was still busy after 120 s; weighing anyway');
}

/** `wix-registry deliveries prune` on the stopped database: what it dropped, in how many batches, how long it took. */
async function runPrune(ctx: Context, databaseUrl: string): Promise<{ pruned: number; batches: number; seconds: number }> {
  const env = registryEnv({
    appId: ctx.appId,
    appSecret: ctx.appSecret,
    publicKeyPem: ctx.key.publicKeyPem,
    apiKey: ctx.apiKey,
    wixApiBaseUrl: ctx.fakeWixUrl,
    databaseUrl,
    port: 0,
  });
  const started = performance.now();
  const prune = spawnTracked('wix-registry deliveries prune', process.execPath, ['bin/wix-registry.js', 'deliveries', 'prune'], {
    env: { ...env, RAW_DELIVERY_RETENTION_DAYS: String(RETENTION_DAYS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  prune.onLine((line) => (output += `${line}\n`));
  const code = await prune.exited;
  const seconds = (performance.now() - started) / 1000;
  const m = /dropped the raw JWT of (\d+) deliver(?:y|ies) .* in (\d+) batch/.exec(output);
  if (code !== 0 || !m) throw new Error(`wix-registry deliveries prune failed (${code}):\n${prune.tail()}`);
  return { pruned: Number(m[1]), batches: Number(m[2]), seconds };
}
