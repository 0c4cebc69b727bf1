/**
 * The load generator: runs in its own process (never inside the server under test), drives
 * autocannon against one server and prints its figures as JSON lines on stdout.
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

const readLines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((line) => line.length > 0);

function buildRequests(spec: LoadSpec, counters: { wrapped: number; remaining: number }): AutocannonRequest[] {
  return spec.requests.map((template) => {
    const bodies = template.bodiesFile ? readLines(template.bodiesFile) : null;
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

/** One autocannon run; returns the figures of the responses received inside the window. */
async function runPhase(spec: LoadSpec, requests: AutocannonRequest[], phase: LoadPhase, counters: { wrapped: number; remaining: number }): Promise<LoadResult> {
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
    url: spec.url,
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
      setTimeout(() => {
        if (!open) return;
        open = false;
        endedAt = performance.now();
        instance.stop();
      }, (phase.durationSec ?? 10) * 1000);
    }
  });
  if (open) {
    // Finished by amount or maxRequests: the window ends at the last response.
    open = false;
    endedAt = lastResponseAt || performance.now();
  }
  const durationSec = Math.max(0.001, (endedAt - startedAt) / 1000);
  const sorted = latencies.slice(0, count).sort();
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
    errors,
    timeouts,
    statusCodes,
    durationSec: round(durationSec, 3),
    wrapped: counters.wrapped - wrappedBefore,
  };
}

const emit = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

async function main() {
  const specFile = process.argv[2];
  if (!specFile) throw new Error('usage: load.ts <spec.json>');
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as LoadSpec;
  const counters = { wrapped: 0, remaining: Infinity };
  const requests = buildRequests(spec, counters);
  if (spec.warmup && (spec.warmup.durationSec || spec.warmup.amount)) {
    await runPhase(spec, requests, spec.warmup, counters);
  }
  const measure = { ...spec.measure };
  if (spec.uniqueBodies && Number.isFinite(counters.remaining)) {
    if (counters.remaining < (measure.connections ?? spec.connections)) throw new Error('the warm-up used up the bodies');
    if (measure.amount) measure.amount = Math.min(measure.amount, counters.remaining);
    else measure.maxRequests = Math.min(measure.maxRequests ?? Infinity, counters.remaining);
  }
  emit({ event: 'measure-start' });
  const result = await runPhase(spec, requests, measure, counters);
  emit({ event: 'measure-end' });
  emit({ event: 'result', result });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`load generator failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
