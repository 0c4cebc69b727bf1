import type { Clock } from './http.js';

/** A token is replaced this long before the expiry the registry gave with it. */
export const TOKEN_REFRESH_MARGIN_MS = 60_000;

/** At most this many instances' tokens are kept; the least recently used goes first. */
export const TOKEN_CACHE_MAX_ENTRIES = 10_000;

export interface IssuedToken {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface TokenCache {
  /** A token for the instance: the cached one while it has more than the margin left, else a new one. */
  get(instanceId: string): Promise<string>;
  /** Drops the instance's token, only if it is still `rejected` when given (a newer one stays). */
  invalidate(instanceId: string, rejected?: string): void;
}

/**
 * Per-instance tokens, one request in flight per instance however many callers ask at once
 * (50 concurrent SDK calls on a cold cache → 1 token request).
 */
export function createTokenCache(options: {
  request: (instanceId: string) => Promise<IssuedToken>;
  clock: Clock;
  marginMs?: number;
  maxEntries?: number;
}): TokenCache {
  const marginMs = options.marginMs ?? TOKEN_REFRESH_MARGIN_MS;
  const maxEntries = options.maxEntries ?? TOKEN_CACHE_MAX_ENTRIES;
  // A Map iterates in insertion order: re-inserting on use makes the first key the least recently used.
  const cached = new Map<string, IssuedToken>();
  const inFlight = new Map<string, Promise<string>>();

  function remember(instanceId: string, issued: IssuedToken): void {
    cached.delete(instanceId);
    cached.set(instanceId, issued);
    while (cached.size > maxEntries) {
      const oldest = cached.keys().next().value as string;
      cached.delete(oldest);
    }
  }

  function fetchToken(instanceId: string): Promise<string> {
    const pending = options
      .request(instanceId)
      .then((issued) => {
        // A token that already lives less than the margin is still good for this call; it is not kept.
        if (issued.expiresAt - marginMs > options.clock.now()) remember(instanceId, issued);
        return issued.token;
      })
      .finally(() => inFlight.delete(instanceId));
    inFlight.set(instanceId, pending);
    return pending;
  }

  return {
    get(instanceId) {
      const hit = cached.get(instanceId);
      if (hit && hit.expiresAt - marginMs > options.clock.now()) {
        remember(instanceId, hit);
        return Promise.resolve(hit.token);
      }
      if (hit) cached.delete(instanceId);
      return inFlight.get(instanceId) ?? fetchToken(instanceId);
    },
    invalidate(instanceId, rejected) {
      const hit = cached.get(instanceId);
      if (hit && (rejected === undefined || hit.token === rejected)) cached.delete(instanceId);
    },
  };
}
