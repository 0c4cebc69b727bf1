/**
 * The readers of the interference section, all at once against one server: list loops
 * (`GET /v1/installations?limit=N` following nextCursor, starting over at the end), loops of
 * year-long daily stats, and full CSV exports read as fast as this client can (each started
 * again when it ends). Everything stops when the time is up or the caller says so; requests
 * then in flight are aborted (an export's rows so far still count).
 *
 * A `503` is a refusal (the server shedding reads so webhooks go first, issue 8), not a
 * failure: it is counted apart, and the loop waits as Retry-After says (at most 1 s) before
 * asking again.
 */
import { percentile } from './report.ts';

export interface ReadersSpec {
  url: string;
  apiKey: string;
  /** The longest it reads. */
  durationSec: number;
  listLoops: number;
  listLimit: number;
  statsLoops: number;
  /** e.g. /v1/stats/daily?from=…&to=… */
  statsPath: string;
  exportLoops: number;
  /** e.g. /v1/installations/export?format=csv */
  exportPath: string;
}

export interface ReadFigures {
  /** Answered 2xx (an export: read to its end). */
  ok: number;
  /** Answered 503. */
  refused: number;
  /** Any other status, or a connection error. */
  failed: number;
  statusCodes: Record<string, number>;
  /** Connection errors by their code (e.g. UND_ERR_CONNECT_TIMEOUT: the server did not accept in time). */
  errorCodes: Record<string, number>;
  /** Of the 2xx answers, ms (an export: from request to its last byte). */
  p50: number;
  p99: number;
  max: number;
}

export interface ReadersResult {
  durationSec: number;
  lists: ReadFigures & { rows: number; walksCompleted: number };
  stats: ReadFigures;
  exports: ReadFigures & { rows: number; bytes: number };
}

const MAX_RETRY_AFTER_MS = 1_000;
const PAUSE_AFTER_FAILURE_MS = 100;

function tally() {
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  const errorCodes: Record<string, number> = {};
  const figures = { ok: 0, refused: 0, failed: 0 };
  return {
    status(status: number) {
      statusCodes[status] = (statusCodes[status] ?? 0) + 1;
      if (status === 503) figures.refused++;
      else if (status < 200 || status >= 300) figures.failed++;
    },
    ok(ms: number) {
      figures.ok++;
      latencies.push(ms);
    },
    error(err: unknown) {
      figures.failed++;
      const cause = (err as { cause?: { code?: string } })?.cause;
      const code = cause?.code ?? (err as { code?: string })?.code ?? (err as Error)?.name ?? 'error';
      errorCodes[code] = (errorCodes[code] ?? 0) + 1;
    },
    result(): ReadFigures {
      latencies.sort((a, b) => a - b);
      const round = (x: number) => (Number.isFinite(x) ? Math.round(x * 100) / 100 : 0);
      return {
        ...figures,
        statusCodes,
        errorCodes,
        p50: round(percentile(latencies, 50)),
        p99: round(percentile(latencies, 99)),
        max: round(latencies.at(-1) ?? 0),
      };
    },
  };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** How long a 503 asks us to wait (Retry-After in seconds), bounded. */
function retryAfterMs(res: Response): number {
  const seconds = Number(res.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, MAX_RETRY_AFTER_MS) : PAUSE_AFTER_FAILURE_MS;
}

const NEWLINE = 0x0a;

/** Reads until `spec.durationSec` is over or `until` aborts, whichever comes first. */
export async function runReaders(spec: ReadersSpec, until?: AbortSignal): Promise<ReadersResult> {
  const stop = new AbortController();
  until?.addEventListener('abort', () => stop.abort());
  const { signal } = stop;
  const headers = { authorization: `Bearer ${spec.apiKey}` };
  const lists = tally();
  const stats = tally();
  const exports = tally();
  let listRows = 0;
  let walksCompleted = 0;
  let exportRows = 0;
  let exportBytes = 0;

  /** One request; returns the response, or null after counting an error or on stop. */
  const ask = async (path: string, t: ReturnType<typeof tally>): Promise<Response | null> => {
    try {
      return await fetch(`${spec.url}${path}`, { headers, signal });
    } catch (err) {
      if (!signal.aborted) {
        t.error(err);
        await sleep(PAUSE_AFTER_FAILURE_MS, signal);
      }
      return null;
    }
  };
  /** Counts a non-2xx answer and waits before the next try. */
  const refusedOrFailed = async (res: Response, t: ReturnType<typeof tally>) => {
    t.status(res.status);
    await res.body?.cancel().catch(() => {});
    await sleep(res.status === 503 ? retryAfterMs(res) : PAUSE_AFTER_FAILURE_MS, signal);
  };

  const listLoop = async () => {
    let cursor: string | null = null;
    while (!signal.aborted) {
      const started = performance.now();
      const res = await ask(`/v1/installations?limit=${spec.listLimit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, lists);
      if (!res) continue;
      if (res.status !== 200) {
        await refusedOrFailed(res, lists);
        continue;
      }
      try {
        const page = (await res.json()) as { items: unknown[]; nextCursor: string | null };
        lists.status(200);
        lists.ok(performance.now() - started);
        listRows += page.items.length;
        cursor = page.nextCursor;
        if (!cursor) walksCompleted++;
      } catch (err) {
        if (!signal.aborted) lists.error(err);
      }
    }
  };

  const statsLoop = async () => {
    while (!signal.aborted) {
      const started = performance.now();
      const res = await ask(spec.statsPath, stats);
      if (!res) continue;
      if (res.status !== 200) {
        await refusedOrFailed(res, stats);
        continue;
      }
      try {
        await res.arrayBuffer();
        stats.status(200);
        stats.ok(performance.now() - started);
      } catch (err) {
        if (!signal.aborted) stats.error(err);
      }
    }
  };

  const exportLoop = async () => {
    while (!signal.aborted) {
      const started = performance.now();
      const res = await ask(spec.exportPath, exports);
      if (!res) continue;
      if (res.status !== 200 || !res.body) {
        await refusedOrFailed(res, exports);
        continue;
      }
      // Rows are CRLF-terminated lines after the header; seeded names hold no line breaks.
      let lines = 0;
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          exportBytes += chunk.length;
          for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) {
            if (lines++ > 0) exportRows++;
          }
        }
        exports.status(200);
        exports.ok(performance.now() - started);
      } catch (err) {
        if (!signal.aborted) exports.error(err);
      }
    }
  };

  const started = performance.now();
  const timer = setTimeout(() => stop.abort(), spec.durationSec * 1000);
  await Promise.all([
    ...Array.from({ length: spec.listLoops }, listLoop),
    ...Array.from({ length: spec.statsLoops }, statsLoop),
    ...Array.from({ length: spec.exportLoops }, exportLoop),
  ]);
  clearTimeout(timer);
  return {
    durationSec: Math.round(performance.now() - started) / 1000,
    lists: { ...lists.result(), rows: listRows, walksCompleted },
    stats: stats.result(),
    exports: { ...exports.result(), rows: exportRows, bytes: exportBytes },
  };
}
