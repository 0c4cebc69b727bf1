import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { DashboardSessionFilter, DashboardSessionRecord } from '../db/store.ts';
import { apiKeyFingerprint, createApiKeyVerifier } from '../http/api-key-auth.ts';
import { apiKeyOf, type ApiKeyEntry, type ApiScope } from '../http/scopes.ts';

/** How long a dashboard session lasts after sign-in; it is not extended by use. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
export const SESSION_COOKIE = 'wix_registry_session';
/**
 * A session found in the database is believed for this long without asking again. Sign-out and
 * revocation through this process drop it from the cache at once; another process's (the CLI, a
 * replica) takes effect here within this time.
 */
export const SESSION_CACHE_TTL_MS = 5_000;
/** Sessions remembered at most (a handful of developers; the bound is against a flood of sign-ins). */
export const SESSION_CACHE_MAX_ENTRIES = 1_000;
/** Random bytes in a session id and in the secret. */
const RANDOM_BYTES = 32;

export interface DashboardSession {
  /** The API key's fingerprint (apiKeyFingerprint), never the key. */
  keyId: string;
  /** The key's scopes as configured now: a change to REGISTRY_API_KEYS applies to open sessions too. */
  scopes: readonly ApiScope[];
  /** Epoch ms. */
  expiresAt: number;
  /** The cookie value. */
  value: string;
  /** The hidden form field that proves a POST came from a page this session was shown. */
  csrfToken: string;
  /** SHA-256 of the session id: the stored row's key. */
  idHash: string;
}

/** What the sessions need from storage: small async functions, wired to the store in registry.ts. */
export interface SessionStorage {
  /** The stored secret, or `candidate` stored as the secret if there is none yet. */
  secret(candidate: string): Promise<string>;
  create(session: DashboardSessionRecord): Promise<void>;
  find(idHash: string): Promise<DashboardSessionRecord | null>;
  /** Ends the sessions the filter names; how many there were. */
  end(filter: DashboardSessionFilter): Promise<number>;
}

const COOKIE_FORMAT = /^v2\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;
const CSRF_FORMAT = /^[A-Za-z0-9_-]{43}$/;

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');
const sameMac = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * Server-side dashboard sessions (issue 12; docs/decisions/0011). The cookie is
 * `v2.<random session id>.<HMAC-SHA256 of it>`; the database holds a row per open session, keyed by
 * the SHA-256 of the id. A session is open while its row exists, it has not expired, and its key is
 * still in REGISTRY_API_KEYS, so sign-out, `wix-registry sessions revoke` and removing the key end it
 * at once, and a restart changes nothing. The HMAC, under a random secret stored in the database
 * (generated once, never derived from the app secret or the keys), lets a forged cookie be refused
 * without a read, and signs the CSRF tokens.
 *
 * Each request's check is a primary-key read on a reader thread, cached for SESSION_CACHE_TTL_MS.
 */
export function createDashboardSessions(options: {
  storage: SessionStorage;
  apiKeys: readonly ApiKeyEntry[];
  clock: Clock;
  /** Random bytes (tests may pin them). */
  randomBytes?: (size: number) => Buffer;
}) {
  const { storage, clock } = options;
  const random = options.randomBytes ?? randomBytes;
  const verifyKey = createApiKeyVerifier(options.apiKeys);
  const configuredKeyIds = [...new Set(options.apiKeys.map((entry) => apiKeyFingerprint(apiKeyOf(entry))))];
  const cache = new Map<string, { keyId: string; expiresAt: number; cachedAt: number }>();
  /** Bumped by every ending: a read that was already asking the database does not cache what it found. */
  let endings = 0;

  let ready: Promise<string> | null = null;
  /**
   * Once per process, before the first session is read or made: the secret, and the end of every
   * session whose key has left REGISTRY_API_KEYS (so it stays ended if the key ever comes back).
   */
  const secret = (): Promise<string> =>
    (ready ??= (async () => {
      const [value] = await Promise.all([
        storage.secret(random(RANDOM_BYTES).toString('base64url')),
        storage.end({ exceptApiKeyIds: configuredKeyIds }),
      ]);
      return value;
    })().catch((error: unknown) => {
      ready = null; // the next request tries again
      throw error;
    }));
  // Separate labels, so a session signature can never pass as a CSRF token or the reverse.
  const mac = (key: string, label: string, text: string) => createHmac('sha256', key).update(`${label}\n${text}`).digest('base64url');

  const remember = (idHash: string, entry: { keyId: string; expiresAt: number; cachedAt: number }) => {
    cache.delete(idHash);
    if (cache.size >= SESSION_CACHE_MAX_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(idHash, entry);
  };

  /**
   * Forgets, ends in storage, and forgets again: a read whose lookup overlapped the deletion (it may
   * have seen the row) sees `endings` move and does not cache it.
   */
  async function ending<T>(end: () => Promise<T>, forget: () => void): Promise<T> {
    endings++;
    forget();
    try {
      return await end();
    } finally {
      endings++;
      forget();
    }
  }

  const sessionOf = (
    key: string,
    id: string,
    idHash: string,
    keyId: string,
    scopes: readonly ApiScope[],
    expiresAt: number,
  ): DashboardSession => ({
    keyId,
    scopes,
    expiresAt,
    value: `v2.${id}.${mac(key, 'session', id)}`,
    csrfToken: mac(key, 'csrf', id),
    idHash,
  });

  return {
    /** Loads the secret and ends the sessions of removed keys now rather than on the first dashboard request. */
    async prepare(): Promise<void> {
      await secret();
    },

    /**
     * Checks a presented API key and, for a key with the `read` scope the dashboard needs, opens a
     * session (stored before this resolves). A key without it opens nothing.
     */
    async signIn(presentedKey: string): Promise<SignInResult> {
      const key = presentedKey ? verifyKey(presentedKey) : null;
      if (!key) return { outcome: 'refused' };
      if (!key.scopes.includes('read')) return { outcome: 'no_read_scope', keyId: key.id };
      const secretValue = await secret();
      const id = random(RANDOM_BYTES).toString('base64url');
      const idHash = sha256Hex(id);
      const createdAt = clock.now();
      const expiresAt = createdAt + SESSION_TTL_MS;
      await storage.create({ idHash, apiKeyId: key.id, createdAt, expiresAt });
      return { outcome: 'signed_in', session: sessionOf(secretValue, id, idHash, key.id, key.scopes, expiresAt) };
    },

    /** The session a cookie value stands for, or null: malformed, forged, ended, expired, or its key is gone. */
    async read(value: string | undefined): Promise<DashboardSession | null> {
      const m = value ? COOKIE_FORMAT.exec(value) : null;
      if (!m) return null;
      const [, id, signature] = m as unknown as [string, string, string];
      const secretValue = await secret();
      if (!sameMac(signature, mac(secretValue, 'session', id))) return null;
      const idHash = sha256Hex(id);
      const now = clock.now();
      let entry = cache.get(idHash);
      if (!entry || !(now - entry.cachedAt < SESSION_CACHE_TTL_MS)) {
        const endingsBefore = endings;
        const row = await storage.find(idHash);
        if (!row) {
          cache.delete(idHash);
          return null;
        }
        entry = { keyId: row.apiKeyId, expiresAt: row.expiresAt, cachedAt: now };
        if (endings === endingsBefore) remember(idHash, entry);
      }
      if (!(entry.expiresAt > now)) return null;
      const scopes = verifyKey.scopesOf(entry.keyId);
      if (!scopes) return null;
      return sessionOf(secretValue, id, idHash, entry.keyId, scopes, entry.expiresAt);
    },

    checkCsrfToken(session: DashboardSession, presented: unknown): boolean {
      return typeof presented === 'string' && CSRF_FORMAT.test(presented) && sameMac(presented, session.csrfToken);
    },

    /** Ends one session (sign-out): its cookie opens nothing from now on, in this process at once. */
    async signOut(session: DashboardSession): Promise<void> {
      await ending(
        () => storage.end({ idHash: session.idHash }),
        () => cache.delete(session.idHash),
      );
    },

    /** Ends every session (or every session of one key): in this process at once, elsewhere within SESSION_CACHE_TTL_MS. */
    async endAll(filter: { apiKeyId?: string } = {}): Promise<number> {
      return ending(
        () => storage.end(filter.apiKeyId ? { apiKeyId: filter.apiKeyId } : { all: true }),
        () => cache.clear(),
      );
    },
  };
}

export type DashboardSessions = ReturnType<typeof createDashboardSessions>;

export type SignInResult =
  | { outcome: 'refused' }
  /** The key is configured but lacks the `read` scope: the dashboard is not for it. */
  | { outcome: 'no_read_scope'; keyId: string }
  | { outcome: 'signed_in'; session: DashboardSession };
