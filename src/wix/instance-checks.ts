import type { Clock } from '../clock.ts';
import { getAppInstance, type AppInstanceSummary } from './instance-calls.ts';
import { createInstanceClients } from './instance-clients.ts';
import { createTokenBroker } from './token-broker.ts';

/** Tokens a check run keeps: only the one just issued is ever used again (by Get App Instance). */
const CHECK_TOKEN_CACHE_ENTRIES = 64;

export interface InstanceChecks {
  /**
   * Asks Wix for a new token for the instance — never a cached one: Wix issues tokens only while
   * the app is installed (docs/wix-protocol.md §2), so the request itself is the check. Resolves
   * when Wix issues one; rejects with a classified WixCallError (refused, unavailable, network).
   */
  requestToken(instanceId: string): Promise<void>;
  /** Get App Instance (docs/wix-protocol.md §3) with the token just issued; rejects with a WixCallError. */
  describe(instanceId: string): Promise<AppInstanceSummary>;
}

export interface InstanceChecksOptions {
  appId: string;
  appSecret: string;
  wixApiBaseUrl: string;
  clock: Clock;
  /** The HTTP client under every call (reconciliation passes a rate-limited one). */
  fetch?: typeof fetch;
  /** Bound on each call (default WIX_REQUEST_TIMEOUT_MS). */
  timeoutMs?: number;
}

/**
 * The calls reconciliation and import make, through the project's own transport: the token
 * request of src/wix/transport.ts (via a token broker of their own, so the server's cache is
 * never consulted: a cached token proves nothing about today) and Get App Instance through an
 * SDK client on that token (src/wix/instance-calls.ts).
 */
export function createInstanceChecks(options: InstanceChecksOptions): InstanceChecks {
  const broker = createTokenBroker({
    appId: options.appId,
    appSecret: options.appSecret,
    wixApiBaseUrl: options.wixApiBaseUrl,
    clock: options.clock,
    // The caller decides what to check; this broker refuses nothing itself.
    instanceStatus: async () => 'active',
    maxEntries: CHECK_TOKEN_CACHE_ENTRIES,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  const clients = createInstanceClients({
    wixApiBaseUrl: options.wixApiBaseUrl,
    broker,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  return {
    async requestToken(instanceId) {
      broker.invalidate(instanceId);
      await broker.getAccessToken(instanceId);
    },
    describe: (instanceId) => getAppInstance(clients, instanceId),
  };
}
