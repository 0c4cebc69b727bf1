import { AppStrategy, createClient, type Descriptors, type WixClient } from '@wix/sdk';
import { createWixFetch } from './fetch-routing.ts';
import { WixCallError, wixErrorFromThrown } from './errors.ts';
import { createRetryingFetch } from './retrying-fetch.ts';
import type { TokenBroker } from './token-broker.ts';

export interface InstanceClientOptions {
  appId: string;
  appSecret: string;
  wixApiBaseUrl: string;
  broker: TokenBroker;
  timeoutMs?: number;
}

/** A per-instance client and what its last failed call to Wix looked like. */
export interface InstanceConnection<T extends Descriptors> {
  client: WixClient<undefined, ReturnType<typeof AppStrategy>, T>;
  /** The classified cause of the last failure: the SDK's own errors often say only "System error occurred". */
  lastFailure(): WixCallError | undefined;
}

/**
 * Real @wix/sdk clients for one app instance, built on `AppStrategy({ appId, appSecret,
 * instanceId })`, whose tokens come from the shared broker instead of a per-object cache, whose
 * calls go to WIX_API_BASE_URL, and which retry a call once with a fresh token when Wix answers
 * 401 (the SDK does not).
 */
export function createInstanceClients(options: InstanceClientOptions) {
  const { broker } = options;
  const wixFetch = createWixFetch(options.wixApiBaseUrl, undefined, options.timeoutMs);

  function connect<T extends Descriptors>(instanceId: string, modules: T): InstanceConnection<T> {
    let lastFailure: WixCallError | undefined;

    const fetchRetryingOn401 = createRetryingFetch({
      wixFetch,
      label: `Wix call for instance ${instanceId}`,
      invalidate: (rejected) => broker.invalidate(instanceId, rejected),
      freshToken: async () => (await broker.getAccessToken(instanceId)).token,
      onFailure: (failure) => {
        lastFailure = failure;
      },
    });

    const auth = AppStrategy({ appId: options.appId, appSecret: options.appSecret, instanceId });
    auth.getAuthHeaders = async () => {
      try {
        return { headers: { Authorization: (await broker.getAccessToken(instanceId)).token } };
      } catch (err) {
        // A copy: the SDK rewrites the message of errors thrown through it ("System error occurred…").
        lastFailure = err instanceof WixCallError ? new WixCallError(err.kind, err.message, err.details) : wixErrorFromThrown(`Token for instance ${instanceId}`, err);
        throw err;
      }
    };
    const client = createClient({ auth, modules, fetch: fetchRetryingOn401 }) as InstanceConnection<T>['client'];
    return { client, lastFailure: () => lastFailure };
  }

  return {
    /**
     * A real @wix/sdk client acting as the app on one instance, e.g.
     * `registry.clientFor(instanceId, { appInstances }).appInstances.getAppInstance()`.
     */
    clientFor<T extends Descriptors>(instanceId: string, modules: T) {
      return connect(instanceId, modules).client;
    },
    connect,
  };
}

export type InstanceClients = ReturnType<typeof createInstanceClients>;
