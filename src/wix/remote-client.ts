import { createClient, type Descriptors, type WixClient } from '@wix/sdk';
import { createWixFetch, WIX_SDK_ORIGIN } from './fetch-routing.ts';
import { createRetryingFetch } from './retrying-fetch.ts';

/** A handed-out token is replaced this long before its expiry. */
export const REMOTE_TOKEN_REFRESH_MARGIN_MS = 60_000;

export interface RemoteWixClientOptions<T extends Descriptors> {
  /** Where the registry listens, e.g. http://wix-registry.internal:3000 */
  registryUrl: string;
  /** One of the registry's REGISTRY_API_KEYS. */
  apiKey: string;
  instanceId: string;
  modules: T;
  /** Where Wix calls go; defaults to Wix itself. */
  wixApiBaseUrl?: string;
  /** Transport for both the registry and Wix (tests, proxies). */
  fetch?: typeof fetch;
}

export class RegistryTokenError extends Error {
  override name = 'RegistryTokenError';
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/**
 * For TypeScript services in other processes: a real @wix/sdk client for one instance whose
 * access tokens come from the registry's POST /v1/installations/:id/access-token, so the
 * service never holds the app secret. Tokens are cached until shortly before they expire,
 * concurrent calls share one request, and a 401 from Wix fetches a new token once.
 */
export function createRemoteWixClient<T extends Descriptors>(options: RemoteWixClientOptions<T>): WixClient<undefined, never, T> {
  const transport = options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  const tokenUrl = `${options.registryUrl.replace(/\/+$/, '')}/v1/installations/${encodeURIComponent(options.instanceId)}/access-token`;
  let cached: { token: string; expiresAt: number } | undefined;
  let inFlight: Promise<string> | undefined;

  async function requestToken(): Promise<string> {
    const response = await transport(tokenUrl, { method: 'POST', headers: { authorization: `Bearer ${options.apiKey}` } });
    const body = (await response.json().catch(() => ({}))) as { accessToken?: string; expiresAt?: string; error?: { code?: string; message?: string } };
    if (!response.ok || !body.accessToken || !body.expiresAt) {
      throw new RegistryTokenError(response.status, body.error?.code, `Registry refused a token for ${options.instanceId}: ${response.status} ${body.error?.message ?? ''}`.trim());
    }
    cached = { token: body.accessToken, expiresAt: Date.parse(body.expiresAt) };
    return body.accessToken;
  }

  function token(): Promise<string> {
    if (cached && cached.expiresAt - REMOTE_TOKEN_REFRESH_MARGIN_MS > Date.now()) return Promise.resolve(cached.token);
    inFlight ??= requestToken().finally(() => (inFlight = undefined));
    return inFlight;
  }

  const wixFetch = createWixFetch(options.wixApiBaseUrl ?? WIX_SDK_ORIGIN, transport);
  return createClient({
    auth: { getAuthHeaders: async () => ({ headers: { Authorization: await token() } }) },
    modules: options.modules,
    fetch: createRetryingFetch({
      wixFetch,
      label: `Wix call for instance ${options.instanceId}`,
      invalidate: (rejected) => {
        if (!rejected || cached?.token === rejected) cached = undefined;
      },
      freshToken: token,
    }),
  }) as unknown as WixClient<undefined, never, T>;
}
