/**
 * The harness's command line: which sections, how many runs, which engine, and every duration
 * and size a section uses. Nothing else reads process.argv.
 *
 *   npm run bench [-- --quick] [-- --only=ingest,interference] [-- --runs=N] [-- --engine=sqlite|postgres|both]
 */

export const SECTIONS = ['ingest', 'tokens', 'queries', 'interference', 'soak', 'retention'] as const;
export type Section = (typeof SECTIONS)[number];

/** The storage engine the registry under test runs on: it decides the DATABASE_URL it gets. */
export const ENGINES = ['sqlite', 'postgres'] as const;
export type EngineName = (typeof ENGINES)[number];

export interface Settings {
  quick: boolean;
  runs: number;
  sections: Section[];
  /**
   * The engines the registry runs on in this run, in order (`--engine=postgres`, `--engine=both` or
   * `--engine=sqlite,postgres`). Ingest and tokens put every engine's figures in one section;
   * the other sections run once per engine.
   */
  engines: EngineName[];
  /** PostgreSQL replicas in the multi-replica figures (ingest, tokens): issue 9 asks for 2. */
  replicas: number;
  /** Connections of the load generator in ingest, tokens and soak (issue 8: 50). */
  connections: number;
  ingest: { warmupSec: number; measureSec: number; poolSize: number };
  tokens: { installs: number; requests: number; helloWarmupSec: number };
  queries: { installations: number; warmupSec: number; measureSec: number; maxRequests: number; connections: number };
  interference: {
    /** Installations in the database (the same seeded one as queries). */
    installations: number;
    /** A probe webhook every this many ms, each on a connection of its own (issue 8: 25 ms). */
    probeIntervalMs: number;
    /** A probe not answered within this long is counted as unanswered (Wix waits 1250 ms). */
    probeTimeoutMs: number;
    /** The probe alone first, on the same server: what "nothing else running" looks like. */
    aloneSec: number;
    /** The readers start this long before the probe, so it meets them at full speed. */
    leadInSec: number;
    /** How long the probe runs while the readers read. */
    windowSec: number;
    /** Concurrent `GET /v1/installations?limit=500` loops following nextCursor. */
    listLoops: number;
    listLimit: number;
    /** Concurrent loops of 366-day `GET /v1/stats/daily`. */
    statsLoops: number;
    /** Concurrent full CSV exports, each restarted when it ends. */
    exportLoops: number;
  };
  soak: { durationSec: number; seedInstalls: number };
  /** Webhooks delivered before the store is weighed, pruned and weighed again, and as many after (issue 12). */
  retention: { deliveries: number };
}

export class UsageError extends Error {}

const FLAGS = `--quick, --only=${SECTIONS.join('|')}[,…], --runs=N, --engine=${ENGINES.join('|')}|both[,…]`;

export function parseSettings(argv: readonly string[]): Settings {
  const quick = argv.includes('--quick');
  let sections: Section[] = [...SECTIONS];
  let runs = quick ? 1 : 3;
  let engines: EngineName[] = ['sqlite'];
  for (const arg of argv) {
    if (arg.startsWith('--only=')) {
      const wanted = arg.slice('--only='.length).split(',').filter(Boolean);
      const unknown = wanted.filter((w) => !(SECTIONS as readonly string[]).includes(w));
      if (wanted.length === 0 || unknown.length > 0) {
        throw new UsageError(`--only: unknown section(s) ${unknown.join(', ') || '(none given)'}; expected ${SECTIONS.join('|')}`);
      }
      sections = SECTIONS.filter((s) => wanted.includes(s));
    } else if (arg.startsWith('--runs=')) {
      runs = Number(arg.slice('--runs='.length));
      if (!Number.isInteger(runs) || runs < 1 || runs > 9) throw new UsageError('--runs must be 1..9');
    } else if (arg.startsWith('--engine=')) {
      const wanted = arg
        .slice('--engine='.length)
        .split(',')
        .flatMap((value) => (value === 'both' ? [...ENGINES] : [value]));
      const unknown = wanted.filter((w) => !(ENGINES as readonly string[]).includes(w));
      if (wanted.length === 0 || unknown.length > 0) {
        throw new UsageError(
          `--engine: unknown engine ${unknown.join(', ') || '(none given)'}; expected ${ENGINES.join('|')}|both, or a comma list`,
        );
      }
      // SQLite first when both run: the reference the PostgreSQL figures are read beside.
      engines = ENGINES.filter((e) => wanted.includes(e));
    } else if (arg !== '--quick') {
      throw new UsageError(`unknown argument ${arg}; flags: ${FLAGS}`);
    }
  }
  return {
    quick,
    runs,
    sections,
    engines,
    replicas: 2,
    connections: 50,
    ingest: quick ? { warmupSec: 1, measureSec: 4, poolSize: 25_000 } : { warmupSec: 2, measureSec: 10, poolSize: 70_000 },
    tokens: { installs: 1_000, requests: 10_000, helloWarmupSec: quick ? 1 : 2 },
    queries: quick
      ? { installations: 1_000_000, warmupSec: 0.3, measureSec: 1.5, maxRequests: 2_000, connections: 1 }
      : { installations: 1_000_000, warmupSec: 0.5, measureSec: 3, maxRequests: 5_000, connections: 1 },
    interference: {
      installations: 1_000_000,
      probeIntervalMs: 25,
      probeTimeoutMs: 30_000,
      aloneSec: quick ? 4 : 10,
      leadInSec: quick ? 1 : 2,
      windowSec: quick ? 12 : 30,
      listLoops: 20,
      listLimit: 500,
      statsLoops: 1,
      exportLoops: 1,
    },
    soak: { durationSec: quick ? 10 : 60, seedInstalls: 1_000 },
    retention: { deliveries: quick ? 2_500 : 10_000 },
  };
}
