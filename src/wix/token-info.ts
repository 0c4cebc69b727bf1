import { createHash } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { createExpiringCache, type Expiring } from './expiring-cache.ts';
import { createWixFetch } from './fetch-routing.ts';
import { requestTokenInfo, type TokenInfo } from './transport.ts';

/** token-info answers are reused this long at most, and never past the token's own exp. */
export const TOKEN_INFO_CACHE_MS = 60_000;
export const TOKEN_INFO_CACHE_MAX_ENTRIES = 10_000;

/** The instance a frontend's Wix access token speaks for, once checked. */
export interface VerifiedInstance {
  instanceId: string;
  siteId: string | null;
  subjectType: string | null;
  subjectId: string | null;
}

export type InstanceCheck = { ok: true; instance: VerifiedInstance } | { ok: false; reason: string };

/**
 * Learns which instance a site widget, settings panel or dashboard page speaks for, without
 * trusting the browser: the Wix access token it sends (fetchWithAuth) is checked with Wix's
 * token-info (docs/wix-protocol.md §3); it must be active, issued to this app, and name an
 * instance. Answers are cached by the token's SHA-256 for TOKEN_INFO_CACHE_MS at most and never
 * past the token's exp; identical checks in flight share one call to Wix.
 */
export function createTokenInfoChecker(deps: {
  appId: string;
  wixApiBaseUrl: string;
  clock: Clock;
  cacheMs?: number;
  /** Bound on each token-info call (default WIX_REQUEST_TIMEOUT_MS). */
  timeoutMs?: number;
  /** The HTTP client under the calls (default: the global fetch, looked up per call). */
  fetch?: typeof fetch;
}) {
  const wixFetch = createWixFetch(deps.wixApiBaseUrl, deps.fetch, deps.timeoutMs);
  const cache = createExpiringCache<string, TokenInfo>({ maxEntries: TOKEN_INFO_CACHE_MAX_ENTRIES, clock: deps.clock });
  const cacheMs = deps.cacheMs ?? TOKEN_INFO_CACHE_MS;

  async function loadTokenInfo(token: string): Promise<Expiring<TokenInfo>> {
    const askedAt = deps.clock.now();
    const info = await requestTokenInfo(wixFetch, token);
    return { value: info, staleAt: Math.min(askedAt + cacheMs, info.exp ? info.exp * 1000 : Number.POSITIVE_INFINITY) };
  }

  return async function checkInstanceToken(token: string): Promise<InstanceCheck> {
    const key = createHash('sha256').update(token).digest('hex');
    const info = await cache.get(key, () => loadTokenInfo(token));
    if (!info.active) return { ok: false, reason: 'token is not active' };
    if (info.exp && info.exp * 1000 <= deps.clock.now()) return { ok: false, reason: 'token expired' };
    if (info.clientId !== deps.appId) return { ok: false, reason: 'token was issued to another app' };
    if (!info.instanceId) return { ok: false, reason: 'token names no instance' };
    return {
      ok: true,
      instance: {
        instanceId: info.instanceId,
        siteId: info.siteId ?? null,
        subjectType: info.subjectType ?? null,
        subjectId: info.subjectId ?? null,
      },
    };
  };
}

export type InstanceTokenChecker = ReturnType<typeof createTokenInfoChecker>;
