import { createHash, timingSafeEqual } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import { AppError } from '../errors.ts';
import type { AppEnv } from './context.ts';
import { apiKeyOf, scopesOf, type ApiKeyEntry, type ApiScope } from './scopes.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** A short, non-reversible name for a key: what audit rows and logs record instead of the key. */
export function apiKeyFingerprint(key: string): string {
  return `key_${digest(key).toString('hex').slice(0, 12)}`;
}

/** Who a presented key turned out to be: its fingerprint and its scopes. */
export interface AuthenticatedKey {
  id: string;
  scopes: readonly ApiScope[];
}

/**
 * Checks presented keys against REGISTRY_API_KEYS. Keys are compared as SHA-256 digests with
 * timingSafeEqual, and every configured key is checked, so neither the length nor the position
 * of a match shows in the timing. With no keys configured, nothing matches.
 */
export function createApiKeyVerifier(entries: readonly ApiKeyEntry[]) {
  const known = entries.map((entry) => ({
    hash: digest(apiKeyOf(entry)),
    id: apiKeyFingerprint(apiKeyOf(entry)),
    scopes: scopesOf(entry),
  }));
  const byId = new Map(known.map((key) => [key.id, key.scopes]));
  const verify = (presented: string): AuthenticatedKey | null => {
    const hash = digest(presented);
    let match: AuthenticatedKey | null = null;
    for (const key of known) {
      if (timingSafeEqual(hash, key.hash)) match = { id: key.id, scopes: key.scopes };
    }
    return match;
  };
  return Object.assign(verify, {
    /** The scopes of a configured key by fingerprint (dashboard sessions hold only that), or null once the key is gone. */
    scopesOf: (id: string): readonly ApiScope[] | null => byId.get(id) ?? null,
  });
}

export type ApiKeyVerifier = ReturnType<typeof createApiKeyVerifier>;

/**
 * `Authorization: Bearer <key>`: 401 unless the key is configured; sets `apiKeyId` (the
 * fingerprint) and `apiKeyScopes` for requireScope() on the route.
 */
export function apiKeyAuth(keys: readonly ApiKeyEntry[]) {
  const verify = createApiKeyVerifier(keys);
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const key = match ? verify(match[1]!) : null;
    if (!key) {
      c.header('WWW-Authenticate', 'Bearer realm="wix-registry"');
      throw new AppError('unauthorized', match ? 'Invalid API key' : 'Missing API key: send Authorization: Bearer <key>');
    }
    c.set('apiKeyId', key.id);
    c.set('apiKeyScopes', key.scopes);
    await next();
  });
}
