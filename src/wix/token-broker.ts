import { AppStrategy } from '@wix/sdk';
import type { Clock } from '../clock.ts';
import { withWixRouting, type ObservedResponse } from './fetch-routing.ts';
import { LruMap } from './lru.ts';
import { WixCallError, wixErrorFromResponse, wixErrorFromThrown } from './errors.ts';

/** A token is replaced this long before Wix says it expires, and never used after that point. */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;
/** Tokens held at most: one per instance recently used. */
export const TOKEN_CACHE_MAX_ENTRIES = 10_000;

export interface AccessToken {
  token: string;
  /** When Wix said the token expires, epoch ms. */
  expiresAt: number;
}

export interface TokenBrokerOptions {
  appId: string;
  appSecret: string;
  wixApiBaseUrl: string;
  clock: Clock;
  /** The registry's view of the instance: refuse unknown and removed ones without calling Wix. */
  instanceStatus: (instanceId: string) => Promise<'active' | 'removed' | undefined> | 'active' | 'removed' | undefined;
  maxEntries?: number;
  refreshMarginMs?: number;
  timeoutMs?: number;
}

/**
 * Access tokens for app instances (basic OAuth, client credentials), obtained exactly as
 * `AppStrategy({ appId, appSecret, instanceId })` does — it is AppStrategy making the request —
 * and fixing what the SDK lacks: one LRU cache shared by the whole process, replacement a
 * margin before expiry, one request in flight per instance however many callers wait, and
 * failures told apart (refused vs. Wix down vs. no answer).
 */
export function createTokenBroker(options: TokenBrokerOptions) {
  const cache = new LruMap<string, AccessToken>(options.maxEntries ?? TOKEN_CACHE_MAX_ENTRIES);
  const inFlight = new Map<string, Promise<AccessToken>>();
  const margin = options.refreshMarginMs ?? TOKEN_REFRESH_MARGIN_MS;
  let upstreamRequests = 0;

  async function requestToken(instanceId: string): Promise<AccessToken> {
    upstreamRequests++;
    const strategy = AppStrategy({ appId: options.appId, appSecret: options.appSecret, instanceId });
    let tokenResponse: ObservedResponse | undefined;
    const requestedAt = options.clock.now();
    let headers: { headers: Record<string, string> };
    try {
      headers = (await withWixRouting(
        {
          baseUrl: options.wixApiBaseUrl,
          ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
          observe: (response) => {
            if (response.url.endsWith('/oauth2/token')) tokenResponse = response;
          },
        },
        () => strategy.getAuthHeaders(undefined) as Promise<{ headers: Record<string, string> }>,
      )) as { headers: Record<string, string> };
    } catch (err) {
      if (tokenResponse && tokenResponse.status !== 200) {
        throw wixErrorFromResponse(`Token request for instance ${instanceId}`, tokenResponse.status, tokenResponse.headers, tokenResponse.body);
      }
      throw wixErrorFromThrown(`Token request for instance ${instanceId}`, err);
    }
    const token = headers.headers.Authorization;
    const expiresIn = Number((tokenResponse?.body as { expires_in?: unknown } | undefined)?.expires_in);
    if (!token || !Number.isFinite(expiresIn)) {
      throw new WixCallError('unavailable', `Token request for instance ${instanceId}: unexpected answer from Wix`);
    }
    return { token, expiresAt: requestedAt + expiresIn * 1000 };
  }

  function usable(entry: AccessToken | undefined): entry is AccessToken {
    return entry !== undefined && entry.expiresAt - margin > options.clock.now();
  }

  return {
    /** A valid token for the instance: cached, or fetched once for all concurrent callers. */
    async getAccessToken(instanceId: string): Promise<AccessToken> {
      const status = await options.instanceStatus(instanceId);
      if (status === undefined) throw new WixCallError('unknown_instance', `Instance ${instanceId} is not known to the registry`);
      if (status === 'removed') throw new WixCallError('removed_instance', `Instance ${instanceId} removed the app`);
      const cached = cache.get(instanceId);
      if (usable(cached)) return cached;
      let pending = inFlight.get(instanceId);
      if (!pending) {
        pending = requestToken(instanceId)
          .then((fresh) => {
            cache.set(instanceId, fresh);
            return fresh;
          })
          .finally(() => inFlight.delete(instanceId));
        inFlight.set(instanceId, pending);
      }
      return pending;
    },
    /** Drops a token Wix rejected (401), unless it was already replaced. */
    invalidate(instanceId: string, token?: string): void {
      if (token === undefined || cache.get(instanceId)?.token === token) cache.delete(instanceId);
    },
    /** Tokens of an instance that removed the app must not be handed out again. */
    forget(instanceId: string): void {
      cache.delete(instanceId);
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
