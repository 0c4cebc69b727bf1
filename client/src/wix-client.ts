import { createClient, type Descriptors, type WixClient } from '@wix/sdk';
import type { Fetch } from './http.js';
import type { TokenCache } from './token-cache.js';

/** Where @wix/sdk sends every call: a literal inside the SDK. */
export const WIX_API_ORIGIN = 'https://www.wixapis.com';

/** Upper bound for one call to Wix made through a client (the SDK sets none). */
export const WIX_REQUEST_TIMEOUT_MS = 10_000;

/** The auth object given to createClient: the instance's token from the registry, as Wix wants it (no `Bearer`). */
export interface RegistryTokenAuth {
  getAuthHeaders(): Promise<{ headers: Record<string, string> }>;
}

export type InstanceWixClient<T extends Descriptors> = WixClient<undefined, RegistryTokenAuth, T>;

export interface InstanceClientOptions {
  instanceId: string;
  tokens: TokenCache;
  transport: Fetch;
  wixApiBaseUrl: string;
  wixRequestTimeoutMs: number;
}

/**
 * A real @wix/sdk client acting as the app on one instance. It is built only from createClient's
 * public options: `auth` is a `{ getAuthHeaders }` object that asks the token cache, and `fetch`
 * sends the SDK's calls to `wixApiBaseUrl`, bounds each with a timeout, and on a 401 from Wix
 * retries the call once with a fresh token.
 */
export function createInstanceWixClient<T extends Descriptors>(modules: T, options: InstanceClientOptions): InstanceWixClient<T> {
  const auth: RegistryTokenAuth = {
    getAuthHeaders: async () => ({ headers: { Authorization: await options.tokens.get(options.instanceId) } }),
  };
  return createClient({ auth, modules, fetch: createInstanceFetch(options) });
}

function createInstanceFetch(options: InstanceClientOptions): Fetch {
  const base = options.wixApiBaseUrl.replace(/\/+$/, '');
  const send = (input: Parameters<Fetch>[0], init: RequestInit | undefined, headers: Headers) => {
    const url = rewriteWixUrl(urlOf(input), base);
    const request = typeof input === 'string' || input instanceof URL ? url : new Request(url, input);
    return options.transport(request, { ...init, headers, signal: init?.signal ?? AbortSignal.timeout(options.wixRequestTimeoutMs) });
  };

  return async (input, init) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const response = await send(input, init, headers);
    if (response.status !== 401) return response;
    // Wix rejected the token (revoked, or expired early): drop it and try once more with a new
    // one. When the registry hands back the very token Wix just rejected, a second call could
    // only fail the same way, so the 401 goes to the caller as it is.
    const rejected = headers.get('authorization') ?? undefined;
    options.tokens.invalidate(options.instanceId, rejected);
    const fresh = await options.tokens.get(options.instanceId);
    if (fresh === rejected) return response;
    await response.body?.cancel();
    headers.set('authorization', fresh);
    return send(input, init, headers);
  };
}

/** Moves an SDK URL onto the configured base (which may carry a path prefix); Wix itself passes through. */
export function rewriteWixUrl(url: string, base: string): string {
  if (base === WIX_API_ORIGIN || !url.startsWith(WIX_API_ORIGIN)) return url;
  return base + url.slice(WIX_API_ORIGIN.length);
}

function urlOf(input: Parameters<Fetch>[0]): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
}
