import { createHash } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { createWixFetch } from './fetch-routing.ts';
import { LruMap } from './lru.ts';
import { wixErrorFromResponse, wixErrorFromThrown } from './errors.ts';

/** token-info answers are reused this long at most, and never past the token's own exp. */
export const TOKEN_INFO_CACHE_MS = 60_000;
export const TOKEN_INFO_CACHE_MAX_ENTRIES = 10_000;

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
 * token-info; it must be active, issued to this app, and name an instance.
 */
export function createTokenInfoChecker(deps: { appId: string; wixApiBaseUrl: string; clock: Clock; cacheMs?: number }) {
  const wixFetch = createWixFetch(deps.wixApiBaseUrl);
  const cache = new LruMap<string, { info: TokenInfo; until: number }>(TOKEN_INFO_CACHE_MAX_ENTRIES);
  const cacheMs = deps.cacheMs ?? TOKEN_INFO_CACHE_MS;

  async function fetchTokenInfo(token: string): Promise<TokenInfo> {
    let response: Response;
    try {
      response = await wixFetch('https://www.wixapis.com/oauth2/token-info', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
      });
    } catch (err) {
      throw wixErrorFromThrown('token-info', err);
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (response.status !== 200) {
      // Wix answers 4xx for a token it cannot read: that is an invalid token, not an outage.
      if (response.status >= 400 && response.status < 500 && response.status !== 429) return { active: false };
      throw wixErrorFromResponse('token-info', response.status, response.headers, body);
    }
    const b = (body ?? {}) as Record<string, unknown>;
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

  return async function checkInstanceToken(token: string): Promise<InstanceCheck> {
    const key = createHash('sha256').update(token).digest('hex');
    const now = deps.clock.now();
    let entry = cache.get(key);
    if (!entry || entry.until <= now) {
      const info = await fetchTokenInfo(token);
      const until = Math.min(now + cacheMs, info.exp ? info.exp * 1000 : Number.POSITIVE_INFINITY);
      entry = { info, until };
      if (until > now) cache.set(key, entry);
    }
    const { info } = entry;
    if (!info.active) return { ok: false, reason: 'token is not active' };
    if (info.exp && info.exp * 1000 <= now) return { ok: false, reason: 'token expired' };
    if (info.clientId !== deps.appId) return { ok: false, reason: 'token was issued to another app' };
    if (!info.instanceId) return { ok: false, reason: 'token names no instance' };
    return {
      ok: true,
      instance: { instanceId: info.instanceId, siteId: info.siteId ?? null, subjectType: info.subjectType ?? null, subjectId: info.subjectId ?? null },
    };
  };
}

export type InstanceTokenChecker = ReturnType<typeof createTokenInfoChecker>;
