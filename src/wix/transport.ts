import { WixCallError, wixErrorFromResponse, wixErrorFromThrown } from './errors.ts';
import { WIX_SDK_ORIGIN } from './fetch-routing.ts';
import { createRetryingFetch, type RetryingFetchOptions } from './retrying-fetch.ts';

/**
 * The Wix transport the project owns: the requests we make ourselves, and the fetch under every
 * SDK client, each through a fetch built by createWixFetch (base URL, timeout) so nothing global
 * is steered. Failures come back as thrown WixCallErrors, never through a side channel.
 */

export interface ClientCredentials {
  appId: string;
  appSecret: string;
  instanceId: string;
}

export interface IssuedAccessToken {
  accessToken: string;
  /** Lifetime Wix gave the token, in seconds (4 h in practice). */
  expiresInSec: number;
}

/**
 * Basic OAuth for an app instance (docs/wix-protocol.md §2): the client-credentials POST
 * /oauth2/token. Byte for byte the request `AppStrategy({ appId, appSecret, instanceId })` sends
 * (same URL, header and JSON key order; test/integration/wix-transport.test.ts compares them),
 * but returning `expires_in`, which AppStrategy keeps to itself, and a classified failure.
 */
export async function requestAccessToken(send: typeof fetch, credentials: ClientCredentials): Promise<IssuedAccessToken> {
  const what = `Token request for instance ${credentials.instanceId}`;
  let status: number;
  let headers: Headers;
  let text: string;
  try {
    const response = await send(`${WIX_SDK_ORIGIN}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        instance_id: credentials.instanceId,
        client_id: credentials.appId,
        client_secret: credentials.appSecret,
        grant_type: 'client_credentials',
      }),
    });
    ({ status, headers } = response);
    text = await response.text();
  } catch (err) {
    throw wixErrorFromThrown(what, err);
  }
  const body = parseJson(text);
  // Like AppStrategy, anything but 200 is a failure.
  if (status !== 200) throw wixErrorFromResponse(what, status, headers, body);
  const accessToken = (body as { access_token?: unknown } | undefined)?.access_token;
  const expiresInSec = Number((body as { expires_in?: unknown } | undefined)?.expires_in);
  if (typeof accessToken !== 'string' || !accessToken || !Number.isFinite(expiresInSec) || expiresInSec <= 0) {
    throw new WixCallError('unavailable', `${what}: unexpected answer from Wix`);
  }
  return { accessToken, expiresInSec };
}

/** What Wix's token-info says about a token (docs/wix-protocol.md §3), fields Wix left out omitted. */
export interface TokenInfo {
  active: boolean;
  clientId?: string;
  instanceId?: string;
  siteId?: string;
  subjectType?: string;
  subjectId?: string;
  /** Epoch seconds. */
  exp?: number;
}

/**
 * POST /oauth2/token-info with `{ token }` and no Authorization header. A 4xx (429 aside) means
 * Wix cannot read the token: it is reported inactive, not as an outage. An unreadable 200 says
 * nothing about the token, so it is thrown (unavailable) rather than reported inactive.
 */
export async function requestTokenInfo(send: typeof fetch, token: string): Promise<TokenInfo> {
  let status: number;
  let headers: Headers;
  let text: string;
  try {
    const response = await send(`${WIX_SDK_ORIGIN}/oauth2/token-info`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    ({ status, headers } = response);
    text = await response.text();
  } catch (err) {
    throw wixErrorFromThrown('token-info', err);
  }
  const body = parseJson(text);
  if (status !== 200) {
    if (status >= 400 && status < 500 && status !== 429) return { active: false };
    throw wixErrorFromResponse('token-info', status, headers, body);
  }
  if (typeof body !== 'object' || body === null)
    throw new WixCallError('unavailable', 'token-info: unexpected answer from Wix', { status });
  const b = body as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const exp = Number(b.exp);
  return {
    active: b.active === true,
    clientId: str(b.clientId),
    instanceId: str(b.instanceId),
    siteId: str(b.siteId),
    subjectType: str(b.subjectType),
    subjectId: str(b.subjectId),
    ...(Number.isFinite(exp) && exp > 0 ? { exp } : {}),
  };
}

/**
 * The fetch for a per-instance `createClient({ fetch })`: a 401 is retried once with a fresh token
 * (createRetryingFetch); then any answer but 2xx is thrown as a classified WixCallError (status,
 * Retry-After, Wix's message), as is no answer. The SDK treats non-200 as an error anyway, but
 * from its error a caller could no longer tell a refusal from an outage nor see Retry-After.
 */
export function createInstanceFetch(options: RetryingFetchOptions): typeof fetch {
  const retrying = createRetryingFetch(options);
  return async (input, init) => {
    const response = await retrying(input, init);
    if (response.ok) return response;
    let body: unknown;
    try {
      body = parseJson(await response.text());
    } catch {
      body = undefined;
    }
    throw wixErrorFromResponse(options.label, response.status, response.headers, body);
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
