/** Where @wix/sdk sends everything; a literal inside the SDK (wix-protocol.md §2). */
export const WIX_SDK_ORIGIN = 'https://www.wixapis.com';

/** Upper bound for any one call to Wix; a slower answer counts as a timeout and is retried. */
export const WIX_REQUEST_TIMEOUT_MS = 10_000;

type Fetch = typeof globalThis.fetch;

/** Rewrites an SDK URL onto the configured WIX_API_BASE_URL (which may carry a path prefix). */
export function rewriteWixUrl(url: string, baseUrl: string): string {
  if (baseUrl === WIX_SDK_ORIGIN || !url.startsWith(WIX_SDK_ORIGIN)) return url;
  return baseUrl + url.slice(WIX_SDK_ORIGIN.length);
}

function urlOf(input: Parameters<Fetch>[0]): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
}

/**
 * A fetch for `createClient({ fetch })`: sends SDK calls to `baseUrl` and bounds each with a
 * timeout. Production (base = Wix) passes through untouched but for the timeout.
 */
export function createWixFetch(
  baseUrl: string,
  fetchImpl: Fetch = (...args) => originalFetch(...args),
  timeoutMs = WIX_REQUEST_TIMEOUT_MS,
): Fetch {
  return (input, init) => {
    const url = rewriteWixUrl(urlOf(input), baseUrl);
    const signal = init?.signal ?? AbortSignal.timeout(timeoutMs);
    if (typeof input === 'string' || input instanceof URL) return fetchImpl(url, { ...init, signal });
    return fetchImpl(new Request(url, input), { ...init, signal });
  };
}

/** What an SDK call made through the global fetch inside a routing scope saw. */
export interface ObservedResponse {
  url: string;
  status: number;
  headers: Headers;
  /** Parsed JSON body when it was JSON. */
  body: unknown;
}

interface RoutingScope {
  baseUrl: string;
  timeoutMs?: number;
  /** Called with each response (a clone) the SDK received inside the scope. */
  observe?: (response: ObservedResponse) => void;
}

/** The scope in force while an SDK call is being *started* (see withWixRouting). */
let currentScope: RoutingScope | undefined;
const originalFetch: Fetch = globalThis.fetch.bind(globalThis);
let installed = false;

/**
 * Runs `start` with @wix/sdk's global-fetch calls sent to `baseUrl`: AppStrategy's token request
 * uses the global fetch and a hard-coded URL, which createClient's `fetch` option does not reach.
 * The caller observes the responses too (the token's expires_in, which AppStrategy does not
 * return). Outside a scope the global fetch behaves exactly as before.
 *
 * The scope is a plain variable set only while `start()` runs synchronously: AppStrategy calls
 * fetch before its first await, so the wrapper sees the scope at call time and keeps it. This
 * avoids AsyncLocalStorage, which on Node 20 puts hooks on every promise in the process. The
 * token-broker tests fail if an SDK update moves the fetch behind an await (the fake Wix would
 * then see no token request).
 */
export function withWixRouting<T>(scope: RoutingScope, start: () => Promise<T>): Promise<T> {
  installGlobalFetchHook();
  const previous = currentScope;
  currentScope = scope;
  try {
    return start();
  } finally {
    currentScope = previous;
  }
}

function installGlobalFetchHook(): void {
  if (installed) return;
  installed = true;
  const routed: Fetch = (input, init) => {
    const scope = currentScope;
    if (!scope) return originalFetch(input, init);
    return routedFetch(scope, input, init);
  };
  globalThis.fetch = routed;
}

async function routedFetch(scope: RoutingScope, input: Parameters<Fetch>[0], init: Parameters<Fetch>[1]): Promise<Response> {
  const url = rewriteWixUrl(urlOf(input), scope.baseUrl);
  const response = await originalFetch(typeof input === 'string' || input instanceof URL ? url : new Request(url, input), {
    ...init,
    signal: init?.signal ?? AbortSignal.timeout(scope.timeoutMs ?? WIX_REQUEST_TIMEOUT_MS),
  });
  if (scope.observe) {
    const copy = response.clone();
    let body: unknown = undefined;
    try {
      body = await copy.json();
    } catch {
      body = undefined;
    }
    scope.observe({ url, status: response.status, headers: response.headers, body });
  }
  return response;
}
