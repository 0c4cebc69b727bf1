import type { Descriptors } from '@wix/sdk';
import { followChanges, type ChangeEntry, type FollowChangesOptions } from './changes.js';
import { RegistryError } from './errors.js';
import { createRegistryHttp, type Clock, type Fetch } from './http.js';
import { createInstallationsApi, type InstallationsApi } from './installations.js';
import { createTokenCache } from './token-cache.js';
import type { AccessToken } from './types.js';
import { createInstanceWixClient, WIX_API_ORIGIN, WIX_REQUEST_TIMEOUT_MS, type InstanceWixClient } from './wix-client.js';

export interface RegistryClientOptions {
  /** Where the registry listens, e.g. `http://wix-registry.internal:3000`. */
  url: string;
  /** One of the registry's REGISTRY_API_KEYS (scopes: `read` for queries and changes, `tokens` for Wix clients). */
  apiKey: string;
  /** Transport for the registry and for Wix (proxies, tests). Default: the global fetch at call time. */
  fetch?: Fetch;
  /** Token expiry and Retry-After dates are judged on this clock. Default: Date.now. */
  clock?: Clock;
  /** Where the Wix clients' calls go. Default `https://www.wixapis.com`; a fake Wix in tests. */
  wixApiBaseUrl?: string;
  /** Upper bound for one registry call other than a long-poll. Default 30 s. */
  requestTimeoutMs?: number;
  /** Upper bound for one call to Wix through a Wix client. Default 10 s. */
  wixRequestTimeoutMs?: number;
}

export interface RegistryClient {
  /**
   * A real @wix/sdk client acting as the app on `instanceId`, e.g.
   * `registry.wixClient(instanceId, { appInstances })`. Its tokens come from the registry (the
   * app secret never leaves it), shared by every client for that instance. A token failure
   * surfaces from the SDK call as a RegistryError (`unknown_instance`, `removed_instance`,
   * `refused`, `unavailable`, `network`, `unauthorized`).
   */
  wixClient<T extends Descriptors>(instanceId: string, modules: T): InstanceWixClient<T>;
  /** The instance's Wix access token (from the same cache), for calls made without the SDK: `Authorization: <token>`. */
  accessToken(instanceId: string): Promise<string>;
  /**
   * Every change from `after` on, for ever: `for await (const { change, cursor } of registry.changes({ after }))`.
   * Handle the change, then save the cursor.
   */
  changes(options?: FollowChangesOptions): AsyncGenerator<ChangeEntry, void, undefined>;
  installations: InstallationsApi;
}

export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  if (!/^https?:\/\//i.test(options.url ?? '')) throw new TypeError('createRegistryClient: url must be an http:// or https:// URL');
  if (!options.apiKey) throw new TypeError('createRegistryClient: apiKey is required');
  const transport: Fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const clock: Clock = options.clock ?? { now: () => Date.now() };
  const http = createRegistryHttp({
    url: options.url,
    apiKey: options.apiKey,
    fetch: transport,
    clock,
    ...(options.requestTimeoutMs !== undefined ? { timeoutMs: options.requestTimeoutMs } : {}),
  });

  const tokens = createTokenCache({
    clock,
    request: async (instanceId) => {
      const body = await http.json<Partial<AccessToken>>({
        method: 'POST',
        path: `/v1/installations/${encodeURIComponent(instanceId)}/access-token`,
        instanceId,
      });
      const expiresAt = Date.parse(body.expiresAt ?? '');
      if (typeof body.accessToken !== 'string' || !body.accessToken || Number.isNaN(expiresAt)) {
        throw new RegistryError('unavailable', `Registry POST /v1/installations/${instanceId}/access-token: the answer holds no token`, {
          instanceId,
        });
      }
      return { token: body.accessToken, expiresAt };
    },
  });

  return {
    wixClient: (instanceId, modules) =>
      createInstanceWixClient(modules, {
        instanceId,
        tokens,
        transport,
        wixApiBaseUrl: options.wixApiBaseUrl ?? WIX_API_ORIGIN,
        wixRequestTimeoutMs: options.wixRequestTimeoutMs ?? WIX_REQUEST_TIMEOUT_MS,
      }),
    accessToken: (instanceId) => tokens.get(instanceId),
    changes: (followOptions) => followChanges(http, followOptions),
    installations: createInstallationsApi(http),
  };
}
