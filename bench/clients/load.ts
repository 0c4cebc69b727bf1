/**
 * The load generator: runs in its own process (never inside the server under test), drives
 * autocannon against one server, or several replicas of one (`urls`: the connections, the
 * requests and the bodies split evenly over them, as a load balancer would), and prints its
 * figures as JSON lines on stdout.
 *
 *   node bin/run-ts.js bench/clients/load.ts <spec.json>
 *
 * stdout protocol (one JSON object per line):
 *   {"event":"measure-start"}         the measured phase begins (warm-up is over)
 *   {"event":"measure-end"}           the measured phase is over
 *   {"event":"result","result":{…}}   LoadResult
 *
 * Figures are computed here from every response inside the measured window (autocannon's own
 * per-second samples would count the idle tail of the last second): latencies in ms as floats.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { percentile as nearestRank } from '../lib/report.ts';

export interface RequestTemplate {
  method: 'GET' | 'POST';
  /** A fixed path, or pathsFile: one path per line, rotated by a counter shared by all connections. */
  path?: string;
  pathsFile?: string;
  headers?: Record<string, string>;
  /** One body per line (a JWT has no newline), each sent once, in order, until the list wraps. */
  bodiesFile?: string;
  body?: string;
}

export interface LoadPhase {
  /** Stop after this long… */
  durationSec?: number;
  /** …or after exactly this many requests (takes precedence). */
  amount?: number;
  /** With durationSec: stop early once this many requests were sent. */
  maxRequests?: number;
  connections?: number;
}

export interface LoadSpec {
  url: string;
  /**
   * Replicas of one server: each gets an equal share of the connections, of an `amount` or
   * `maxRequests`, and a disjoint share of the bodies; the figures are over all of them.
   * Default: [url].
   */
  urls?: string[];
  connections: number;
  /** Each connection cycles through these in order. */
  requests: RequestTemplate[];
  warmup?: LoadPhase;
  measure: LoadPhase;
  /**
   * The measured phase stops once the bodies left after the warm-up are sent, so no body is
   * sent twice (for one template with a bodiesFile; the duration still bounds the phase).
   */
  uniqueBodies?: boolean;
  timeoutSec?: number;
}

export interface LoadResult {
  /** Responses per second (any status). */
  rps: number;
  /** 2xx responses per second. */
  okRps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  requests: number;
  ok: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  durationSec: number;
  /** How many sends reused a body because a template's body list wrapped around. */
  wrapped: number;
}

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  setupRequest?: (req: AutocannonRequest, context: unknown) => AutocannonRequest;
}
interface AutocannonInstance {
  on(event: 'response', fn: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): void;
  on(event: 'reqError', fn: (err: Error) => void): void;
  on(event: 'start', fn: () => void): void;
  stop(): void;
}
type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: unknown) => void) => AutocannonInstance;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const readLines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0);

/** `share`: this server's part of the bodies (every `of`-th body from `index`), so no body goes to two replicas. */
function buildRequests(spec: LoadSpec, counters: { wrapped: number; remaining: number }, share = { index: 0, of: 1 }): AutocannonRequest[] {
  return spec.requests.map((template) => {
    const bodies = template.bodiesFile ? readLines(template.bodiesFile).filter((_, i) => i % share.of === share.index) : null;
    const paths = template.pathsFile ? readLines(template.pathsFile) : null;
    const base: AutocannonRequest = {
      method: template.method,
      path: template.path ?? '/',
      headers: template.headers ?? {},
      ...(template.body !== undefined ? { body: template.body } : {}),
    };
    if (!bodies && !paths) return base;
    let next = 0;
    if (bodies) counters.remaining = Math.min(counters.remaining, bodies.length);
    return {
      ...base,
      setupRequest(req) {
        const i = next++;
        if (bodies) {
          counters.remaining = Math.min(counters.remaining, bodies.length - next);
          if (i >= bodies.length) counters.wrapped++;
          req.body = bodies[i % bodies.length]!;
        }
        if (paths) req.path = paths[i % paths.length]!;
        return req;
      },
    };
  });
}

/** Nearest rank; 0 for no responses (the JSON result carries no NaN). */
const percentile = (sorted: Float64Array, p: number) => (sorted.length === 0 ? 0 : nearestRank(sorted, p));

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

interface PhaseParts {
  latencies: Float64Array;
  ok: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  startedAt: number;
  endedAt: number;
  wrapped: number;
}

/** One autocannon run against one server; the raw figures of the responses received inside the window. */
async function runPhase(
  spec: LoadSpec,
  url: string,
  requests: AutocannonRequest[],
  phase: LoadPhase,
  counters: { wrapped: number; remaining: number },
): Promise<PhaseParts> {
  const connections = Math.max(1, Math.min(phase.connections ?? spec.connections, phase.amount ?? Infinity));
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let ok = 0;
  let errors = 0;
  let timeouts = 0;
  const statusCodes: Record<string, number> = {};
  let open = true;
  let lastResponseAt = 0;
  const wrappedBefore = counters.wrapped;

  const opts: Record<string, unknown> = {
    url,
    connections,
    requests,
    timeout: spec.timeoutSec ?? 10,
    sampleInt: 100,
  };
  if (phase.amount) opts.amount = phase.amount;
  else {
    // Our own timer ends the window; autocannon's duration is only a backstop.
    opts.duration = (phase.durationSec ?? 10) + 30;
    if (phase.maxRequests) opts.maxOverallRequests = Math.max(phase.maxRequests, connections);
  }

  const startedAt = performance.now();
  let endedAt = 0;
  await new Promise<void>((resolve, reject) => {
    const instance = autocannon(opts, (err) => (err ? reject(err) : resolve()));
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (!open) return;
      if (count === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[count++] = responseTime;
      if (statusCode >= 200 && statusCode < 300) ok++;
      statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
      lastResponseAt = performance.now();
    });
    instance.on('reqError', (err) => {
      if (!open) return;
      errors++;
      if (/timed out/.test(err.message)) timeouts++;
    });
    if (!phase.amount) {
      setTimeout(
        () => {
          if (!open) return;
          open = false;
          endedAt = performance.now();
          instance.stop();
        },
        (phase.durationSec ?? 10) * 1000,
      );
    }
  });
  if (open) {
    // Finished by amount or maxRequests: the window ends at the last response.
    open = false;
    endedAt = lastResponseAt || performance.now();
  }
  return {
    latencies: latencies.slice(0, count),
    ok,
    errors,
    timeouts,
    statusCodes,
    startedAt,
    endedAt,
    wrapped: counters.wrapped - wrappedBefore,
  };
}

/** The figures over every server's responses: one window from the first start to the last end. */
function summarize(parts: readonly PhaseParts[]): LoadResult {
  const count = parts.reduce((n, p) => n + p.latencies.length, 0);
  const sorted = new Float64Array(count);
  let offset = 0;
  for (const p of parts) {
    sorted.set(p.latencies, offset);
    offset += p.latencies.length;
  }
  sorted.sort();
  const ok = parts.reduce((n, p) => n + p.ok, 0);
  const statusCodes: Record<string, number> = {};
  for (const p of parts) for (const [code, n] of Object.entries(p.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  const durationSec = Math.max(0.001, (Math.max(...parts.map((p) => p.endedAt)) - Math.min(...parts.map((p) => p.startedAt))) / 1000);
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    rps: round(count / durationSec, 1),
    okRps: round(ok / durationSec, 1),
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(count ? sorted[count - 1]! : 0),
    mean: round(count ? sum / count : 0),
    requests: count,
    ok,
    non2xx: count - ok,
    errors: parts.reduce((n, p) => n + p.errors, 0),
    timeouts: parts.reduce((n, p) => n + p.timeouts, 0),
    statusCodes,
    durationSec: round(durationSec, 3),
    wrapped: parts.reduce((n, p) => n + p.wrapped, 0),
  };
}

/** A phase's share for one of `of` servers: connections, amount and maxRequests split evenly. */
function sharePhase(phase: LoadPhase, connections: number, of: number): LoadPhase {
  const split = (n: number | undefined) => (n === undefined ? undefined : Math.max(1, Math.ceil(n / of)));
  return {
    ...phase,
    connections: split(phase.connections ?? connections),
    ...(phase.amount !== undefined ? { amount: split(phase.amount) } : {}),
    ...(phase.maxRequests !== undefined ? { maxRequests: split(phase.maxRequests) } : {}),
  };
}

const emit = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

async function main() {
  const specFile = process.argv[2];
  if (!specFile) throw new Error('usage: load.ts <spec.json>');
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as LoadSpec;
  const urls = spec.urls && spec.urls.length > 0 ? spec.urls : [spec.url];
  const servers = urls.map((url, index) => {
    const counters = { wrapped: 0, remaining: Infinity };
    return { url, counters, requests: buildRequests(spec, counters, { index, of: urls.length }) };
  });
  if (spec.warmup && (spec.warmup.durationSec || spec.warmup.amount)) {
    const warmup = sharePhase(spec.warmup, spec.connections, urls.length);
    await Promise.all(servers.map((s) => runPhase(spec, s.url, s.requests, warmup, s.counters)));
  }
  const measures = servers.map((s) => {
    const measure = sharePhase(spec.measure, spec.connections, urls.length);
    if (spec.uniqueBodies && Number.isFinite(s.counters.remaining)) {
      if (s.counters.remaining < (measure.connections ?? spec.connections)) throw new Error('the warm-up used up the bodies');
      if (measure.amount) measure.amount = Math.min(measure.amount, s.counters.remaining);
      else measure.maxRequests = Math.min(measure.maxRequests ?? Infinity, s.counters.remaining);
    }
    return measure;
  });
  emit({ event: 'measure-start' });
  const parts = await Promise.all(servers.map((s, i) => runPhase(spec, s.url, s.requests, measures[i]!, s.counters)));
  emit({ event: 'measure-end' });
  emit({ event: 'result', result: summarize(parts) });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`load generator failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
