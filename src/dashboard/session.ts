import { createHmac, timingSafeEqual } from 'node:crypto';
import { createApiKeyVerifier } from '../http/api-key-auth.ts';
import type { ApiKeyEntry, ApiScope } from '../http/scopes.ts';
import type { Clock } from '../clock.ts';

/** How long a dashboard session lasts after sign-in; it is not extended by use. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
export const SESSION_COOKIE = 'wix_registry_session';
/** Shorter secrets are a wiring mistake, not a configuration choice. */
const MIN_SECRET_LENGTH = 32;

export interface DashboardSession {
  /** The API key's fingerprint (apiKeyFingerprint), never the key. */
  keyId: string;
  /** The key's scopes as configured now: a change to REGISTRY_API_KEYS applies to open sessions too. */
  scopes: readonly ApiScope[];
  /** Epoch ms. */
  expiresAt: number;
  /** The cookie value, which the CSRF token is derived from. */
  value: string;
}

const SESSION_FORMAT = /^v1\.(key_[0-9a-f]{12})\.(\d{1,16})\.([A-Za-z0-9_-]{43})$/;
const CSRF_FORMAT = /^[A-Za-z0-9_-]{43}$/;

/**
 * Stateless dashboard sessions: the cookie is `v1.<key fingerprint>.<expiry ms>.<HMAC-SHA256>`.
 * Nothing is stored server-side, so a session ends when it expires, when its key leaves
 * REGISTRY_API_KEYS (the fingerprint must still be configured), or when the secret changes (it
 * is derived from the app secret and the keys). The key itself is only ever hashed.
 */
export function createSessionSigner(options: { secret: string; apiKeys: readonly ApiKeyEntry[]; clock: Clock }) {
  if (options.secret.length < MIN_SECRET_LENGTH) throw new Error(`dashboard session secret must be at least ${MIN_SECRET_LENGTH} characters`);
  const verifyKey = createApiKeyVerifier(options.apiKeys);
  // Separate labels, so a session signature can never pass as a CSRF token or the reverse.
  const mac = (label: string, text: string) => createHmac('sha256', options.secret).update(`${label}\n${text}`).digest('base64url');
  const sameMac = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

  return {
    /** Checks a presented API key; a new session for it, or null. */
    signIn(presentedKey: string): DashboardSession | null {
      const key = presentedKey ? verifyKey(presentedKey) : null;
      if (!key) return null;
      const expiresAt = options.clock.now() + SESSION_TTL_MS;
      const payload = `v1.${key.id}.${expiresAt}`;
      return {
        keyId: key.id,
        scopes: key.scopes,
        expiresAt,
        value: `${payload}.${mac('session', payload)}`,
      };
    },

    /** The session a cookie value stands for, or null: malformed, forged, expired, or its key is gone. */
    read(value: string | undefined): DashboardSession | null {
      const m = value ? SESSION_FORMAT.exec(value) : null;
      if (!m) return null;
      const [, keyId, expiry, signature] = m as unknown as [string, string, string, string];
      if (!sameMac(signature, mac('session', `v1.${keyId}.${expiry}`))) return null;
      const expiresAt = Number(expiry);
      if (!(expiresAt > options.clock.now())) return null;
      const scopes = verifyKey.scopesOf(keyId);
      if (!scopes) return null;
      return { keyId, scopes, expiresAt, value: value! };
    },

    /** The hidden form field that proves a POST came from a page this session was shown. */
    csrfToken(session: DashboardSession): string {
      return mac('csrf', session.value);
    },

    checkCsrfToken(session: DashboardSession, presented: unknown): boolean {
      return typeof presented === 'string' && CSRF_FORMAT.test(presented) && sameMac(presented, mac('csrf', session.value));
    },
  };
}

export type SessionSigner = ReturnType<typeof createSessionSigner>;
