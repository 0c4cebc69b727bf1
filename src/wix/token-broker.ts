import type { Clock } from '../clock.ts';
import { WixCallError } from './errors.ts';
import { createExpiringCache, type Expiring } from './expiring-cache.ts';
import { createWixFetch } from './fetch-routing.ts';
import { requestAccessToken } from './transport.ts';

/** A token is replaced this long before Wix says it expires, and never used after that point. */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;
/** Tokens held at most: one per instance recently used. */
export const TOKEN_CACHE_MAX_ENTRIES = 10_000;

export interface AccessToken {
  token: string;
  /** When Wix said the token expires, epoch ms. */
  expiresAt: number;
}

export type InstanceStatus = 'active' | 'removed';

export interface TokenBrokerOptions {
  appId: string;
  appSecret: string;
  wixApiBaseUrl: string;
  clock: Clock;
  /** The registry's view of the instance: refuse unknown and removed ones without calling Wix. Async, as storage is. */
  instanceStatus: (instanceId: string) => Promise<InstanceStatus | undefined>;
  maxEntries?: number;
  refreshMarginMs?: number;
  /** Bound on each token request (default WIX_REQUEST_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Told the outcome of each token request to Wix (metrics). */
  onTokenRequest?: (outcome: 'ok' | 'refused' | 'unavailable' | 'network') => void;
  /** The HTTP client under the token requests (default: the global fetch, looked up per call). */
  fetch?: typeof fetch;
}

/**
 * Access tokens for app instances (basic OAuth, client credentials: docs/wix-protocol.md §2),
 * requested exactly as `AppStrategy({ appId, appSecret, instanceId })` would (transport.ts), and
 * fixing what the SDK lacks: one LRU cache shared by the whole process, replacement a margin
 * before expiry, one request in flight per instance however many callers wait, and failures
 * told apart (refused vs. Wix down vs. no answer).
 */
export function createTokenBroker(options: TokenBrokerOptions) {
  const { clock } = options;
  const cache = createExpiringCache<string, AccessToken>({ maxEntries: options.maxEntries ?? TOKEN_CACHE_MAX_ENTRIES, clock });
  const margin = options.refreshMarginMs ?? TOKEN_REFRESH_MARGIN_MS;
  const send = createWixFetch(options.wixApiBaseUrl, options.fetch, options.timeoutMs);
  let upstreamRequests = 0;

  async function requestToken(instanceId: string): Promise<Expiring<AccessToken>> {
    upstreamRequests++;
    // The lifetime counts from the request, not the answer: the token may be that much older.
    const requestedAt = clock.now();
    let issued;
    try {
      issued = await requestAccessToken(send, { appId: options.appId, appSecret: options.appSecret, instanceId });
      options.onTokenRequest?.('ok');
    } catch (err) {
      options.onTokenRequest?.(err instanceof WixCallError && err.kind !== 'unknown_instance' && err.kind !== 'removed_instance' ? err.kind : 'network');
      throw err;
    }
    const expiresAt = requestedAt + issued.expiresInSec * 1000;
    return { value: { token: issued.accessToken, expiresAt }, staleAt: expiresAt - margin };
  }

  return {
    /** A valid token for the instance: cached, or fetched once for all concurrent callers. */
    async getAccessToken(instanceId: string): Promise<AccessToken> {
      const status = await options.instanceStatus(instanceId);
      if (status === undefined) throw new WixCallError('unknown_instance', `Instance ${instanceId} is not known to the registry`);
      if (status === 'removed') throw new WixCallError('removed_instance', `Instance ${instanceId} removed the app`);
      return cache.get(instanceId, () => requestToken(instanceId));
    },
    /** Drops a token Wix rejected (401), unless it was already replaced. */
    invalidate(instanceId: string, token?: string): void {
      cache.delete(instanceId, (cached) => token === undefined || cached.token === token);
    },
    /** Tokens of an instance that removed the app must not be handed out again, nor one in flight stored. */
    forget(instanceId: string): void {
      cache.forget(instanceId);
    },
    get upstreamRequests() {
      return upstreamRequests;
    },
    get cachedTokens() {
      return cache.size;
    },
  };
}

export type TokenBroker = ReturnType<typeof createTokenBroker>;
