import { createClient, type AuthenticationStrategy, type Descriptors, type WixClient } from '@wix/sdk';
import { createWixFetch } from './fetch-routing.ts';
import type { TokenBroker } from './token-broker.ts';
import { createInstanceFetch } from './transport.ts';

export interface InstanceClientOptions {
  wixApiBaseUrl: string;
  broker: TokenBroker;
  /** Bound on each call (default WIX_REQUEST_TIMEOUT_MS). */
  timeoutMs?: number;
  /** The HTTP client under the SDK's calls (default: the global fetch, looked up per call). */
  fetch?: typeof fetch;
}

/** The SDK's own interface for an auth strategy: all a client needs is the Authorization header. */
export type BrokerAuth = AuthenticationStrategy<undefined>;

export type InstanceClient<T extends Descriptors> = WixClient<undefined, BrokerAuth, T>;

/**
 * Real @wix/sdk clients for one app instance, acting as the app. Built with `createClient` from
 * two public, typed options and nothing patched (docs/decisions/0003):
 * - `auth`: a plain AuthenticationStrategy whose `getAuthHeaders` asks the shared token broker.
 *   AppStrategy cannot be used as is: with `instanceId` it requests its own token through the
 *   global fetch from a hard-coded URL, and with `accessToken` it exchanges that token first.
 * - `fetch`: our transport: calls go to WIX_API_BASE_URL with a timeout, a 401 is retried once
 *   with a fresh token (the SDK does not), and failures are thrown as classified WixCallErrors.
 */
export function createInstanceClients(options: InstanceClientOptions) {
  const { broker } = options;
  const send = createWixFetch(options.wixApiBaseUrl, options.fetch, options.timeoutMs);

  return {
    /**
     * A real @wix/sdk client acting as the app on one instance, e.g.
     * `registry.clientFor(instanceId, { appInstances }).appInstances.getAppInstance()`.
     * A failed call rejects with a WixCallError (see toWixCallError for its message).
     */
    clientFor<T extends Descriptors>(instanceId: string, modules: T): InstanceClient<T> {
      const freshToken = async () => (await broker.getAccessToken(instanceId)).token;
      const auth: BrokerAuth = { getAuthHeaders: async () => ({ headers: { Authorization: await freshToken() } }) };
      const fetch = createInstanceFetch({
        wixFetch: send,
        label: `Wix call for instance ${instanceId}`,
        invalidate: (rejected) => broker.invalidate(instanceId, rejected),
        freshToken,
      });
      return createClient<undefined, BrokerAuth, T>({ auth, modules, fetch });
    },
  };
}

export type InstanceClients = ReturnType<typeof createInstanceClients>;
