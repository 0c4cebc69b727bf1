/**
 * `npm run bench`: the registry against its references, each server in its own process on one
 * pinned core, and the load generators and other clients in processes on the other. Prints one
 * markdown table of every figure with its target, writes bench/results/latest.json, and exits 0
 * even when a target is missed: it is a report, not a gate. See bench/README.md.
 *
 *   npm run bench [-- --quick] [-- --only=ingest,tokens,queries,interference,soak,retention] [-- --runs=N] [-- --engine=sqlite|postgres|both]
 *
 * With several engines (`--engine=both`), ingest and tokens show every engine in one section (the
 * PostgreSQL figures beside SQLite's); the other sections run once per engine.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createFakeWix, listenLocal } from '../src/sandbox/fake-wix.ts';
import type { Context } from './lib/context.ts';
import { createEngine, RESULTS_DIR } from './lib/engines.ts';
import { writeLines } from './lib/load-client.ts';
import { allowedCpus, findTaskset, pinSelf, planPinning } from './lib/pinning.ts';
import { installCleanup, REPO_ROOT } from './lib/proc.ts';
import { createReport, formatTable, log, type Report } from './lib/report.ts';
import { parseSettings, UsageError, type Section } from './lib/settings.ts';
import { generateSigningKey, loadOrSignPool, type SignedDelivery } from './lib/webhooks.ts';
import { benchIngest } from './sections/ingest.ts';
import { benchInterference } from './sections/interference.ts';
import { benchQueries } from './sections/queries.ts';
import { benchRetention } from './sections/retention.ts';
import { benchSoak } from './sections/soak.ts';
import { benchTokens } from './sections/tokens.ts';

const SECTION_RUNNERS: Record<Section, (ctx: Context) => Promise<unknown>> = {
  ingest: benchIngest,
  tokens: benchTokens,
  queries: benchQueries,
  interference: benchInterference,
  soak: benchSoak,
  retention: benchRetention,
};

/** Sections that take every engine of the run at once; the others run once per engine. */
const ALL_ENGINE_SECTIONS: readonly Section[] = ['ingest', 'tokens'];

const SECTION_TITLES: Record<Section, string> = {
  ingest: 'Ingest',
  tokens: 'Token API',
  queries: 'Queries (1M)',
  interference: 'Interference (1M)',
  soak: 'Soak',
  retention: 'Retention',
};

async function main() {
  const settings = parseSettings(process.argv.slice(2));
  const work = mkdtempSync(join(tmpdir(), 'wix-registry-bench-dbs-'));
  installCleanup(() => rmSync(work, { recursive: true, force: true }));
  const report = createReport();
  const startedAt = new Date();

  const pinning = planPinning({ taskset: findTaskset(), cpus: allowedCpus() });
  pinSelf(pinning);
  if (!pinning.pinned) log(`\n*** WARNING: ${pinning.description}: every figure below is unpinned ***\n`);
  const engines = await Promise.all(settings.engines.map((name) => createEngine(name, { work })));
  const engineNames = engines.map((e) => e.name).join(', ');
  const loadBefore = loadavg();
  log(
    `wix-registry bench: ${settings.quick ? 'quick' : 'full'}, ${settings.runs} run(s) per figure, sections: ${settings.sections.join(', ')}, ` +
      `engine(s): ${engineNames}; ${cpus().length} CPUs, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}; ${pinning.description}`,
  );
  report.row('Setup', 'CPU pinning (taskset)', pinning.description, 'servers on one core, load on another', pinning.pinned);
  for (const engine of engines) {
    report.row('Setup', 'engine', engine.unavailable ? `${engine.name}: not available (${engine.unavailable})` : engine.name);
  }
  // PostgreSQL's own processes are not started by the bench and run on any core: say so.
  if (engines.some((e) => e.name === 'postgres') && pinning.pinned) {
    report.row(
      'Setup',
      'PostgreSQL server',
      'not pinned: its processes share every core with the load (the registry replicas stay on the server core)',
    );
  }

  // Every section but queries posts webhooks. A full run's pool (70,000) serves later quick runs too.
  const needsPool = settings.sections.some((s) => s !== 'queries');
  const poolSize = settings.sections.includes('ingest') ? settings.ingest.poolSize : 20_000;
  const signed = needsPool
    ? await loadOrSignPool(join(RESULTS_DIR, 'webhook-pool.json'), poolSize, log)
    : { appId: randomUUID(), key: generateSigningKey(), deliveries: [] as SignedDelivery[] };
  const appSecret = randomBytes(24).toString('base64url');
  const fakeWix = createFakeWix({ appId: signed.appId, appSecret });
  const listening = await listenLocal(fakeWix.app);
  const ctx: Context = {
    settings,
    report,
    engines,
    engine: engines[0]!,
    pinning,
    key: signed.key,
    appId: signed.appId,
    appSecret,
    apiKey: randomBytes(16).toString('hex'),
    fakeWix,
    fakeWixUrl: listening.url,
    pool: signed.deliveries,
    poolFile: writeLines(
      'pool.txt',
      signed.deliveries.map((d) => d.jwt),
    ),
    work,
  };

  const sections: Record<string, unknown> = {};
  const runSection = async (name: Section, title: string, key: string, sectionCtx: Context) => {
    const started = performance.now();
    try {
      sections[key] = await SECTION_RUNNERS[name](sectionCtx);
    } catch (err) {
      // One broken section must not hide the others' figures.
      const message = (err as Error).message ?? String(err);
      log(`${key}: FAILED: ${message}`);
      report.row(title, 'section failed to run', message.split('\n')[0]!.slice(0, 160), 'runs', false);
      sections[key] = { error: message };
    }
    log(`${key}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
  };
  const available = engines.filter((e) => !e.unavailable);
  for (const name of settings.sections) {
    if (available.length === 0) {
      report.row(SECTION_TITLES[name], `registry on ${engineNames}`, 'not available', '', null);
      sections[name] = { status: 'not available', reasons: engines.map((e) => e.unavailable) };
      continue;
    }
    if (ALL_ENGINE_SECTIONS.includes(name)) {
      await runSection(name, SECTION_TITLES[name], name, ctx);
      continue;
    }
    for (const engine of engines) {
      // With one engine the titles stay as they were; with several each says its engine.
      const title = engines.length > 1 ? `${SECTION_TITLES[name]}, ${engine.name}` : SECTION_TITLES[name];
      const key = engines.length > 1 ? `${name}:${engine.name}` : name;
      if (engine.unavailable) {
        report.row(title, `registry on ${engine.name}`, 'not available', '', null);
        sections[key] = { status: 'not available', reason: engine.unavailable };
        continue;
      }
      await runSection(name, title, key, { ...ctx, engine, report: engines.length > 1 ? suffixed(report, `, ${engine.name}`) : report });
    }
  }
  await listening.close();

  const loadAfter = loadavg();
  process.stdout.write(`\n${formatTable(report.rows)}\n\n`);
  process.stdout.write(
    `${settings.quick ? 'Quick' : 'Full'} run, ${settings.runs} run(s) per figure (median), engine(s) ${engineNames}, ${cpus().length} CPUs (${pinning.description}); ` +
      `load average before ${loadBefore[0]!.toFixed(2)}, after ${loadAfter[0]!.toFixed(2)}. Figures on a shared machine are noisy.\n`,
  );
  mkdirSync(RESULTS_DIR, { recursive: true });
  const out = join(RESULTS_DIR, 'latest.json');
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    totalMemMb: Math.round(totalmem() / 1_048_576),
    node: process.version,
    loadBefore,
    loadAfter,
  };
  writeFileSync(
    out,
    `${JSON.stringify({ startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), settings, pinning, machine, repo: REPO_ROOT, sections, table: report.rows }, null, 2)}\n`,
  );
  process.stdout.write(`Wrote ${out}\n`);
}

/** The report as a per-engine run of a section writes it: its rows under the section's title with the engine's name. */
function suffixed(report: Report, suffix: string): Report {
  return { rows: report.rows, row: (section, ...rest) => report.row(`${section}${suffix}`, ...rest) };
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
