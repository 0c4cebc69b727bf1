import { createHash, timingSafeEqual } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import { AppError } from '../errors.ts';
import type { AppEnv } from './context.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** A short, non-reversible name for a key: what audit rows and logs record instead of the key. */
export function apiKeyFingerprint(key: string): string {
  return `key_${digest(key).toString('hex').slice(0, 12)}`;
}

/**
 * `Authorization: Bearer <key>` against REGISTRY_API_KEYS. Keys are compared as SHA-256
 * digests with timingSafeEqual, and every configured key is checked, so neither the length nor
 * the position of a match shows in the timing. With no keys configured, everyone gets 401.
 */
export function createApiKeyVerifier(keys: readonly string[]) {
  const known = keys.map((key) => ({ hash: digest(key), id: apiKeyFingerprint(key) }));
  return (presented: string): string | null => {
    const hash = digest(presented);
    let match: string | null = null;
    for (const key of known) {
      if (timingSafeEqual(hash, key.hash)) match = key.id;
    }
    return match;
  };
}

export function apiKeyAuth(keys: readonly string[]) {
  const verify = createApiKeyVerifier(keys);
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const keyId = match ? verify(match[1]!) : null;
    if (!keyId) {
      c.header('WWW-Authenticate', 'Bearer realm="wix-registry"');
      throw new AppError('unauthorized', match ? 'Invalid API key' : 'Missing API key: send Authorization: Bearer <key>');
    }
    c.set('apiKeyId', keyId);
    await next();
  });
}
