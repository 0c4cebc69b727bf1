import { afterEach, describe, expect, it, vi } from 'vitest';
import { SESSION_CACHE_TTL_MS, SESSION_COOKIE } from '../../src/dashboard/sessions.ts';
import { apiKeyFingerprint } from '../../src/http/api-key-auth.ts';
import { createTestRegistry, TEST_API_KEY, type TestRegistry } from '../helpers/registry.ts';

/**
 * Server-side dashboard sessions (issue 12): sign-out, removing the key from REGISTRY_API_KEYS
 * and the admin command end a session for good, a restart changes nothing, and the secret that
 * signs the cookies is random and kept in the database.
 */

const ORIGIN = 'http://localhost';
const OTHER_KEY = 'second-dashboard-key-0123456789';
const READ_ONLY_KEY = 'read-only-dashboard-key-0123456789';

describe('dashboard sessions are kept on the server', () => {
  let t: TestRegistry;
  afterEach(async () => {
    vi.restoreAllMocks();
    await t?.close();
  });

  const open = (cookie: string) => t.app.request('/dashboard', { headers: { cookie } });
  /** 200: the cookie opens the dashboard; 303: it sends the browser to sign in. */
  const statusOf = async (cookie: string) => (await open(cookie)).status;
  async function signIn(apiKey = TEST_API_KEY): Promise<string> {
    const res = await t.app.request('/dashboard/sign-in', {
      method: 'POST',
      body: new URLSearchParams({ apiKey }),
      headers: { origin: ORIGIN },
    });
    expect(res.status).toBe(303);
    return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  }
  async function signOut(cookie: string): Promise<Response> {
    const csrf = /name="csrf" value="([^"]+)"/.exec(await (await open(cookie)).text())?.[1] ?? '';
    return t.app.request('/dashboard/sign-out', {
      method: 'POST',
      body: new URLSearchParams({ csrf }),
      headers: { cookie, origin: ORIGIN },
    });
  }
  const storedSessions = () => t.db.query<{ id_hash: string; api_key_id: string }>('SELECT id_hash, api_key_id FROM dashboard_sessions');

  it('signing in stores a row keyed by the hash of the session id, never the id or the key', async () => {
    t = await createTestRegistry();
    const cookie = await signIn();
    const id = cookie.split('=')[1]!.split('.')[1]!;
    const rows = await storedSessions();
    expect(rows).toEqual([{ id_hash: expect.stringMatching(/^[0-9a-f]{64}$/), api_key_id: apiKeyFingerprint(TEST_API_KEY) }]);
    const dump = JSON.stringify(await t.db.query('SELECT * FROM dashboard_sessions'));
    expect(dump).not.toContain(id);
    expect(dump).not.toContain(TEST_API_KEY);
  });

  it('sign-out ends the session on the server: a copy of the cookie opens nothing, also after a restart', async () => {
    t = await createTestRegistry({ apiKeys: [TEST_API_KEY, OTHER_KEY] });
    const cookie = await signIn();
    const bystander = await signIn(OTHER_KEY);
    expect(await statusOf(cookie)).toBe(200);
    const out = await signOut(cookie);
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(new RegExp(`^${SESSION_COOKIE}=; Max-Age=0`));
    // The browser dropped its cookie; a copy kept elsewhere (stolen, or another tab) is refused too, at once.
    expect(await statusOf(cookie)).toBe(303);
    expect((await storedSessions()).map((r) => r.api_key_id)).toEqual([apiKeyFingerprint(OTHER_KEY)]);
    await t.restart();
    expect(await statusOf(cookie)).toBe(303);
    // Another session was left alone, and survives the restart: the secret is the stored one.
    expect(await statusOf(bystander)).toBe(200);
  });

  it('removing the key from REGISTRY_API_KEYS ends its sessions, for good even if the key comes back', async () => {
    t = await createTestRegistry({ apiKeys: [TEST_API_KEY, OTHER_KEY] });
    const removed = await signIn(OTHER_KEY);
    const kept = await signIn();
    await t.restart({ apiKeys: [TEST_API_KEY] });
    expect(await statusOf(removed)).toBe(303);
    expect(await statusOf(kept)).toBe(200);
    expect((await storedSessions()).map((r) => r.api_key_id)).toEqual([apiKeyFingerprint(TEST_API_KEY)]);
    await t.restart({ apiKeys: [TEST_API_KEY, OTHER_KEY] });
    expect(await statusOf(removed)).toBe(303);
    expect(await statusOf(await signIn(OTHER_KEY))).toBe(200);
  });

  it('a scope taken from the key applies to its open session at once', async () => {
    t = await createTestRegistry({ apiKeys: [TEST_API_KEY] });
    const cookie = await signIn();
    await t.restart({ apiKeys: [{ key: TEST_API_KEY, scopes: ['tokens'] }] });
    expect(await statusOf(cookie)).toBe(403);
  });

  it('DELETE /v1/dashboard-sessions (admin) ends every session in this process at once; other keys get 403', async () => {
    t = await createTestRegistry({ apiKeys: [TEST_API_KEY, OTHER_KEY, { key: READ_ONLY_KEY, scopes: ['read'] }] });
    const first = await signIn();
    const second = await signIn(OTHER_KEY);
    expect([await statusOf(first), await statusOf(second)]).toEqual([200, 200]); // both now cached
    const refused = await t.app.request('/v1/dashboard-sessions', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${READ_ONLY_KEY}` },
    });
    expect(refused.status).toBe(403);
    expect(await statusOf(first)).toBe(200);
    const res = await t.api('/v1/dashboard-sessions', { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ended: 2 });
    // No clock moved: the cache of this process was dropped with the rows.
    expect([await statusOf(first), await statusOf(second)]).toEqual([303, 303]);
    expect(await storedSessions()).toEqual([]);
    await t.restart();
    expect(await statusOf(first)).toBe(303);
  });

  it('an ending by another process (the CLI, a replica) takes effect here within the cache time', async () => {
    t = await createTestRegistry();
    const cookie = await signIn();
    expect(await statusOf(cookie)).toBe(200);
    // What `wix-registry sessions revoke --all` does, from outside this process's sessions.
    expect(await t.store.write({ kind: 'endSessions', filter: { all: true } })).toBe(1);
    expect(await statusOf(cookie)).toBe(200); // still cached here
    t.clock.advance(SESSION_CACHE_TTL_MS);
    expect(await statusOf(cookie)).toBe(303);
  });

  it('a session check reads the database at most once per cache time', async () => {
    t = await createTestRegistry();
    const cookie = await signIn();
    const find = vi.spyOn(t.store.sessions, 'find');
    for (let i = 0; i < 5; i++) expect(await statusOf(cookie)).toBe(200);
    expect(find).toHaveBeenCalledTimes(1);
    t.clock.advance(SESSION_CACHE_TTL_MS - 1);
    await statusOf(cookie);
    expect(find).toHaveBeenCalledTimes(1);
    t.clock.advance(1);
    await statusOf(cookie);
    expect(find).toHaveBeenCalledTimes(2);
    // A cookie whose signature is wrong is refused without a read.
    const [name, value] = cookie.split('=') as [string, string];
    await statusOf(`${name}=${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`);
    expect(find).toHaveBeenCalledTimes(2);
  });

  it('the session secret is random, generated once into the database, and not derived from the app secret or the keys', async () => {
    t = await createTestRegistry();
    const cookie = await signIn();
    const secretOf = (registry: TestRegistry) =>
      registry.db.value<string | undefined>(`SELECT value FROM registry_state WHERE name = 'dashboard.session_secret'`);
    const secret = await secretOf(t);
    expect(secret).toMatch(/^[\w-]{43}$/);
    await t.restart();
    expect(await secretOf(t)).toBe(secret);
    expect(await statusOf(cookie)).toBe(200);
    // The same app secret and keys on another database: another secret, so this cookie means nothing there.
    const other = await createTestRegistry();
    try {
      const res = await other.app.request('/dashboard/sign-in', {
        method: 'POST',
        body: new URLSearchParams({ apiKey: TEST_API_KEY }),
        headers: { origin: ORIGIN },
      });
      expect(res.status).toBe(303);
      expect(await secretOf(other)).not.toBe(secret);
      expect((await other.app.request('/dashboard', { headers: { cookie } })).status).toBe(303);
    } finally {
      await other.close();
    }
  });

  it('`wix-registry sessions list` and `sessions revoke` work beside the running registry', async () => {
    t = await createTestRegistry({ apiKeys: [TEST_API_KEY, OTHER_KEY], now: Date.now() });
    const cli = (...args: string[]) => t.cli(...args);
    const mine = await signIn();
    const theirs = await signIn(OTHER_KEY);
    const listed = JSON.parse(await cli('sessions', 'list', '--json')) as { apiKeyId: string; expiresAt: string }[];
    expect(listed.map((s) => s.apiKeyId).sort()).toEqual([apiKeyFingerprint(TEST_API_KEY), apiKeyFingerprint(OTHER_KEY)].sort());
    expect(await cli('sessions', 'revoke', '--key', apiKeyFingerprint(OTHER_KEY))).toMatch(/^1 dashboard session\(s\) ended/);
    t.clock.advance(SESSION_CACHE_TTL_MS);
    expect([await statusOf(mine), await statusOf(theirs)]).toEqual([200, 303]);
    expect(await cli('sessions', 'revoke', '--all')).toMatch(/^1 dashboard session\(s\) ended/);
    t.clock.advance(SESSION_CACHE_TTL_MS);
    expect(await statusOf(mine)).toBe(303);
    await expect(cli('sessions', 'revoke')).rejects.toMatchObject({ code: 2 });
    await expect(cli('sessions', 'revoke', '--key', TEST_API_KEY)).rejects.toMatchObject({ code: 2 });
  });
});
