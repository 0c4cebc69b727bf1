import { parseRetryAfter, RegistryError, type RegistryFailureKind } from './errors.js';

export type Fetch = typeof globalThis.fetch;

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

/** Upper bound for one registry call (its token requests wait on Wix for up to 10 s). */
export const REGISTRY_REQUEST_TIMEOUT_MS = 30_000;

export type QueryValue = string | number | Date | null | undefined;

export interface RegistryRequest {
  method: 'GET' | 'POST';
  /** Under the registry's URL, e.g. `/v1/installations`. */
  path: string;
  query?: Record<string, QueryValue>;
  signal?: AbortSignal | undefined;
  timeoutMs?: number;
  /** Set when the path names an instance: a 404 then means "unknown instance", not "no such route". */
  instanceId?: string;
}

export interface RegistryHttp {
  /** Sends one request with the API key and returns the parsed JSON of a 2xx answer; throws RegistryError otherwise. */
  json<T>(request: RegistryRequest): Promise<T>;
}

interface ErrorEnvelope {
  error?: { code?: unknown; message?: unknown; requestId?: unknown };
}

/**
 * The registry's HTTP API through an injected fetch: Bearer API key, a deadline on every call
 * (answer and body), and every failure turned into a RegistryError of the right kind. A caller's
 * own abort is passed through as it is (an AbortError), never turned into a RegistryError.
 */
export function createRegistryHttp(options: { url: string; apiKey: string; fetch: Fetch; clock: Clock; timeoutMs?: number }): RegistryHttp {
  const base = options.url.replace(/\/+$/, '');
  const defaultTimeoutMs = options.timeoutMs ?? REGISTRY_REQUEST_TIMEOUT_MS;

  return {
    async json<T>(request: RegistryRequest): Promise<T> {
      const url = base + request.path + queryString(request.query);
      const what = `${request.method} ${request.path}`;
      const deadline = withDeadline(request.signal, request.timeoutMs ?? defaultTimeoutMs);
      try {
        let response: Response;
        let text: string;
        try {
          response = await options.fetch(url, {
            method: request.method,
            headers: { authorization: `Bearer ${options.apiKey}`, accept: 'application/json' },
            signal: deadline.signal,
          });
          text = await response.text();
        } catch (err) {
          if (request.signal?.aborted) throw request.signal.reason ?? err;
          const reason = deadline.timedOut() ? `no answer within ${request.timeoutMs ?? defaultTimeoutMs} ms` : 'no answer';
          throw new RegistryError('network', `Registry ${what}: ${reason}`, { cause: err, ...instance(request) });
        }
        const body = parseJson(text);
        if (response.ok) {
          if (body === undefined) {
            throw new RegistryError('unavailable', `Registry ${what}: answered ${response.status} with a body that is not JSON`, {
              status: response.status,
              ...instance(request),
            });
          }
          return body as T;
        }
        throw errorFromAnswer(what, request, response, body as ErrorEnvelope | undefined, options.clock.now());
      } finally {
        deadline.clear();
      }
    },
  };
}

function instance(request: RegistryRequest): { instanceId?: string } {
  return request.instanceId === undefined ? {} : { instanceId: request.instanceId };
}

function errorFromAnswer(
  what: string,
  request: RegistryRequest,
  response: Response,
  body: ErrorEnvelope | undefined,
  now: number,
): RegistryError {
  const status = response.status;
  const code = typeof body?.error?.code === 'string' ? body.error.code : undefined;
  const message = typeof body?.error?.message === 'string' ? body.error.message : undefined;
  const requestId = typeof body?.error?.requestId === 'string' ? body.error.requestId : (response.headers.get('x-request-id') ?? undefined);
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now);
  const kind = kindOf(status, code, request.instanceId !== undefined);
  return new RegistryError(kind, `Registry ${what}: ${status}${code ? ` ${code}` : ''}${message ? ` (${message})` : ''}`, {
    status,
    ...(code !== undefined ? { code } : {}),
    ...(requestId !== undefined ? { requestId } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...instance(request),
  });
}

function kindOf(status: number, code: string | undefined, aboutInstance: boolean): RegistryFailureKind {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404) return aboutInstance && code === 'not_found' ? 'unknown_instance' : 'not_found';
  if (status === 410) return 'removed_instance';
  if (status === 502 && code === 'wix_refused') return 'refused';
  if (status === 408 || status === 429 || status >= 500) return 'unavailable';
  return 'bad_request';
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function queryString(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    params.set(key, value instanceof Date ? value.toISOString() : String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * A signal that aborts when the caller's does or when `timeoutMs` passes. (AbortSignal.any
 * would do, but it arrived in Node 20.3 and the package promises every Node 20.)
 */
function withDeadline(outer: AbortSignal | undefined, timeoutMs: number) {
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`No answer within ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    clear() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}
