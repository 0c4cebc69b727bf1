import type { Clock } from '../clock.ts';
import type { SharedTokenStore } from '../db/store.ts';
import type { Logger } from '../logger.ts';
import { WixCallError } from './errors.ts';
import { createExpiringCache, type Expiring } from './expiring-cache.ts';
import { createWixFetch } from './fetch-routing.ts';
import { createTokenSealer } from './token-sealing.ts';
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
  /**
   * The shared token rows of a store with several processes (RegistryStore.tokens): asked on a
   * cache miss, under the instance's lock, so that Wix sees one token request per instance per
   * token lifetime across every replica. Absent: this process's cache is the only one.
   */
  sharedTokens?: SharedTokenStore | undefined;
  /** Where failures of the shared token rows are reported (at warn); tokens keep flowing without them. */
  logger?: Logger | undefined;
}

/**
 * Access tokens for app instances (basic OAuth, client credentials: docs/wix-protocol.md §2),
 * requested exactly as `AppStrategy({ appId, appSecret, instanceId })` would (transport.ts), and
 * fixing what the SDK lacks: one LRU cache shared by the whole process, replacement a margin
 * before expiry, one request in flight per instance however many callers wait, and failures
 * told apart (refused vs. Wix down vs. no answer).
 *
 * With `sharedTokens` (PostgreSQL replicas, issue 9), a cache miss goes to the instance's shared
 * row under a lock held across processes: a row still valid past the margin is used as it is;
 * otherwise this process asks Wix and stores the answer, sealed (token-sealing.ts), before the
 * lock is let go, so the others find it there. The row is an optimisation of Wix's load, never a
 * condition for a token: when it fails (database down, lock not granted in time), the broker asks
 * Wix directly and logs at warn — the cost is an extra token request, not a failed call.
 */
export function createTokenBroker(options: TokenBrokerOptions) {
  const { clock, sharedTokens, logger } = options;
  const cache = createExpiringCache<string, AccessToken>({ maxEntries: options.maxEntries ?? TOKEN_CACHE_MAX_ENTRIES, clock });
  const margin = options.refreshMarginMs ?? TOKEN_REFRESH_MARGIN_MS;
  const send = createWixFetch(options.wixApiBaseUrl, options.fetch, options.timeoutMs);
  const sealer = sharedTokens ? createTokenSealer(options.appSecret) : null;
  /** Clears of shared rows not finished yet, per instance: a load waits for them, so it never reads a row being cleared. */
  const rowClears = new Map<string, Promise<void>>();
  let upstreamRequests = 0;

  const withMargin = (token: AccessToken): Expiring<AccessToken> => ({ value: token, staleAt: token.expiresAt - margin });

  async function requestToken(instanceId: string): Promise<Expiring<AccessToken>> {
    upstreamRequests++;
    // The lifetime counts from the request, not the answer: the token may be that much older.
    const requestedAt = clock.now();
    let issued;
    try {
      issued = await requestAccessToken(send, { appId: options.appId, appSecret: options.appSecret, instanceId });
      options.onTokenRequest?.('ok');
    } catch (err) {
      options.onTokenRequest?.(
        err instanceof WixCallError && err.kind !== 'unknown_instance' && err.kind !== 'removed_instance' ? err.kind : 'network',
      );
      throw err;
    }
    return withMargin({ token: issued.accessToken, expiresAt: requestedAt + issued.expiresInSec * 1000 });
  }

  /** A cache miss: the shared row if there is one and it is fresh, else Wix (storing the answer in the row). */
  async function loadToken(instanceId: string): Promise<Expiring<AccessToken>> {
    if (!sharedTokens || !sealer) return requestToken(instanceId);
    await rowClears.get(instanceId);
    let issued: Expiring<AccessToken> | undefined;
    let wixFailure: { error: unknown } | undefined;
    try {
      return await sharedTokens.locked(instanceId, async (row, save) => {
        const stored = row ? sealer.open(instanceId, row) : null;
        if (stored && clock.now() < stored.expiresAt - margin) return withMargin(stored);
        try {
          issued = await requestToken(instanceId);
        } catch (error) {
          wixFailure = { error };
          throw error;
        }
        await save(sealer.seal(instanceId, issued.value), clock.now());
        return issued;
      });
    } catch (err) {
      // Wix's own answer stands: asking again without the row would only ask Wix twice.
      if (wixFailure) throw wixFailure.error;
      // The shared row failed; the token must not. A token already issued is used (the others will
      // ask Wix once more, as they would without the row); before that, ask Wix directly.
      logger?.warn({ err, instanceId }, 'token broker: the shared token row failed; asking Wix without it');
      return issued ?? requestToken(instanceId);
    }
  }

  /** Clears the instance's shared row when `matches` accepts what it holds, in the background (warn on failure). */
  function clearRow(instanceId: string, matches?: (token: AccessToken | null) => boolean): void {
    if (!sharedTokens || !sealer) return;
    const previous = rowClears.get(instanceId) ?? Promise.resolve();
    const clearing: Promise<void> = previous
      .then(() => sharedTokens.remove(instanceId, matches ? (row) => matches(sealer.open(instanceId, row)) : undefined))
      .then(
        () => undefined,
        (err: unknown) => logger?.warn({ err, instanceId }, 'token broker: could not clear the shared token row'),
      )
      .finally(() => {
        if (rowClears.get(instanceId) === clearing) rowClears.delete(instanceId);
      });
    rowClears.set(instanceId, clearing);
  }

  return {
    /** A valid token for the instance: cached, or fetched once for all concurrent callers. */
    async getAccessToken(instanceId: string): Promise<AccessToken> {
      const status = await options.instanceStatus(instanceId);
      if (status === undefined) throw new WixCallError('unknown_instance', `Instance ${instanceId} is not known to the registry`);
      if (status === 'removed') throw new WixCallError('removed_instance', `Instance ${instanceId} removed the app`);
      return cache.get(instanceId, () => loadToken(instanceId));
    },
    /** Drops a token Wix rejected (401), here and in the shared row, unless it was already replaced. */
    invalidate(instanceId: string, token?: string): void {
      cache.delete(instanceId, (cached) => token === undefined || cached.token === token);
      // A row that does not open (null) is left alone: it is read as missing anyway.
      clearRow(instanceId, (stored) => stored !== null && (token === undefined || stored.token === token));
    },
    /** Tokens of an instance that removed the app must not be handed out again, nor one in flight stored. */
    forget(instanceId: string): void {
      cache.forget(instanceId);
      clearRow(instanceId);
    },
    /** Resolves once every clear of a shared row started so far has finished (tests, shutdown). */
    async settled(): Promise<void> {
      await Promise.all([...rowClears.values()]);
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
