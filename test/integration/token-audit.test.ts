import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyFingerprint } from '../../src/http/api-key-auth.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { createTestRegistry, type TestRegistry } from '../helpers/registry.ts';

/**
 * The token audit, readable (issue 12): GET /v1/audit/token-handouts (admin only) and
 * `wix-registry audit tokens`, over rows the token API really wrote.
 */

const ADMIN_KEY = 'audit-admin-key-0123456789abcdef';
const SERVICE_KEY = 'audit-service-key-0123456789abcd';
const READ_KEY = 'audit-read-key-0123456789abcdefg';
const ADMIN = apiKeyFingerprint(ADMIN_KEY);
const SERVICE = apiKeyFingerprint(SERVICE_KEY);
const T0 = Date.UTC(2026, 10, 20, 9, 0);
const MINUTE = 60_000;

type Row = {
  id: number;
  requestedAt: string;
  apiKeyId: string;
  instanceId: string;
  outcome: string;
  tokenExpiresAt: string | null;
  requestId: string | null;
};
type Page = { items: Row[]; nextCursor: string | null };

describe('the token audit', () => {
  let wix: RunningFakeWix;
  let t: TestRegistry;
  /** What each request was expected to record, oldest first. */
  const made: { key: string; instanceId: string; outcome: string; at: number; requestId: string }[] = [];

  const as = (key: string, path: string, init: RequestInit = {}) =>
    t.app.request(path, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers ?? {}) } });
  const audit = async (query = '', key = ADMIN_KEY) => {
    const res = await as(key, `/v1/audit/token-handouts${query ? `?${query}` : ''}`);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as Page;
  };

  beforeAll(async () => {
    wix = await startFakeWix({ nowSec: () => Math.floor(t.clock.now() / 1000) });
    t = await createTestRegistry({
      wixApiBaseUrl: wix.url,
      now: T0,
      apiKeys: [ADMIN_KEY, { key: SERVICE_KEY, scopes: ['tokens'] }, { key: READ_KEY, scopes: ['read'] }],
    });
    const sign = (eventType: string, instanceId: string) => t.signer.sign({ eventType, instanceId, iat: Math.floor(t.clock.now() / 1000) });
    for (const id of ['inst-a', 'inst-b', 'inst-gone']) expect((await t.deliver(await sign('AppInstalled', id))).status).toBe(200);
    t.clock.advance(1_000);
    expect((await t.deliver(await sign('AppRemoved', 'inst-gone'))).status).toBe(200);
    const plan: [string, string, string, number][] = [
      [SERVICE_KEY, 'inst-a', 'issued', 200],
      [SERVICE_KEY, 'inst-b', 'issued', 200],
      [ADMIN_KEY, 'inst-a', 'issued', 200],
      [SERVICE_KEY, 'nobody', 'unknown_instance', 404],
      [SERVICE_KEY, 'inst-gone', 'removed_instance', 410],
      [SERVICE_KEY, 'inst-a', 'issued', 200],
    ];
    for (const [i, [key, instanceId, outcome, status]] of plan.entries()) {
      t.clock.set(T0 + (i + 1) * MINUTE);
      const requestId = `audit-req-${i}`;
      const res = await as(key, `/v1/installations/${instanceId}/access-token`, { method: 'POST', headers: { 'x-request-id': requestId } });
      expect(res.status).toBe(status);
      made.push({ key: apiKeyFingerprint(key), instanceId, outcome, at: t.clock.now(), requestId });
    }
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await wix?.close();
  });

  it('lists every request newest first, with key fingerprint, instance, time, outcome and request id; never a token or a key', async () => {
    const res = await as(ADMIN_KEY, '/v1/audit/token-handouts');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const text = await res.text();
    const page = JSON.parse(text) as Page;
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((r) => [r.apiKeyId, r.instanceId, r.outcome, r.requestedAt, r.requestId])).toEqual(
      [...made].reverse().map((m) => [m.key, m.instanceId, m.outcome, new Date(m.at).toISOString(), m.requestId]),
    );
    const issued = page.items.find((r) => r.outcome === 'issued')!;
    expect(Date.parse(issued.tokenExpiresAt!)).toBeGreaterThan(Date.parse(issued.requestedAt));
    expect(page.items.find((r) => r.outcome === 'unknown_instance')!.tokenExpiresAt).toBeNull();
    for (const secret of [ADMIN_KEY, SERVICE_KEY, 'OauthNG']) expect(text).not.toContain(secret);
  });

  it('filters by instance, key, outcome and time, alone and together', async () => {
    const ids = (page: Page) => page.items.map((r) => r.requestId);
    expect(ids(await audit('instanceId=inst-a'))).toEqual(['audit-req-5', 'audit-req-2', 'audit-req-0']);
    expect(ids(await audit(`key=${ADMIN}`))).toEqual(['audit-req-2']);
    expect(ids(await audit(`key=${SERVICE}&instanceId=inst-a`))).toEqual(['audit-req-5', 'audit-req-0']);
    expect(ids(await audit('outcome=removed_instance'))).toEqual(['audit-req-4']);
    const at = (n: number) => encodeURIComponent(new Date(T0 + n * MINUTE).toISOString());
    expect(ids(await audit(`since=${at(3)}`))).toEqual(['audit-req-5', 'audit-req-4', 'audit-req-3', 'audit-req-2']);
    expect(ids(await audit(`since=${at(2)}&until=${at(4)}`))).toEqual(['audit-req-2', 'audit-req-1']);
    expect(ids(await audit(`key=${SERVICE}&since=${at(4)}&outcome=issued`))).toEqual(['audit-req-5']);
    expect(ids(await audit('instanceId=never-asked'))).toEqual([]);
  });

  it('pages through with an opaque cursor, every row once, the filters kept', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = await audit(`key=${SERVICE}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((r) => r.requestId!));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(['audit-req-5', 'audit-req-4', 'audit-req-3', 'audit-req-1', 'audit-req-0']);
  });

  it('is for admin keys only: a tokens or read key gets 403, no key 401; bad parameters are 400 naming them', async () => {
    for (const key of [SERVICE_KEY, READ_KEY]) {
      const res = await as(key, '/v1/audit/token-handouts');
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    }
    expect((await t.app.request('/v1/audit/token-handouts')).status).toBe(401);
    const bad = async (query: string) => {
      const res = await as(ADMIN_KEY, `/v1/audit/token-handouts?${query}`);
      expect(res.status, query).toBe(400);
      return ((await res.json()) as { error: { message: string } }).error.message;
    };
    expect(await bad(`key=${SERVICE_KEY}`)).toMatch(/^key: must be an API key fingerprint/);
    expect(await bad(`instanceId=${'x'.repeat(201)}`)).toMatch(/^instanceId:/);
    expect(await bad('since=yesterday')).toMatch(/^since:/);
    expect(await bad('since=2026-11-02&until=2026-11-01')).toMatch(/^until: must be later than since/);
    expect(await bad('limit=501')).toMatch(/^limit:/);
    expect(await bad('outcome=granted')).toMatch(/^outcome:/);
    expect(await bad(`cursor=${Buffer.from('["x",1]').toString('base64url')}`)).toMatch(/^cursor:/);
    expect(await bad('order=asc')).toMatch(/unknown parameter/);
  });

  it('`wix-registry audit tokens` prints the same rows, with the same filters, as a table or JSON', async () => {
    const cli = (...args: string[]) => t.cli('audit', 'tokens', ...args);
    const since = new Date(T0 + 2 * MINUTE).toISOString();
    const json = JSON.parse(await cli('--instance', 'inst-a', '--since', since, '--json')) as Page;
    expect(json).toEqual(await audit(`instanceId=inst-a&since=${encodeURIComponent(since)}`));
    expect(json.items.map((r) => r.requestId)).toEqual(['audit-req-5', 'audit-req-2']);
    expect((JSON.parse(await cli('--key', ADMIN, '--json')) as Page).items.map((r) => r.requestId)).toEqual(['audit-req-2']);

    const table = (await cli('--key', SERVICE, '--outcome', 'issued')).trim().split('\n');
    expect(table[0]).toMatch(/^TIME\s+KEY\s+INSTANCE\s+OUTCOME\s+EXPIRES\s+REQUEST$/);
    expect(table.slice(1)).toHaveLength(3);
    expect(table[1]).toMatch(
      new RegExp(`^2026-11-20 09:06:00\\s+${SERVICE}\\s+inst-a\\s+issued\\s+2026-11-20 \\d\\d:\\d\\d:\\d\\d\\s+audit-req-5$`),
    );

    const paged = (await cli('--limit', '2')).trim().split('\n');
    expect(paged.at(-1)).toMatch(/^more: --cursor \S+/);
    const all = JSON.parse(await cli('--all', '--limit', '2', '--json')) as Page;
    expect(all.items.map((r) => r.requestId)).toEqual([...made].reverse().map((m) => m.requestId));
    expect((await cli('--all')).trim().split('\n')).toHaveLength(made.length + 1);

    await expect(cli('--key', SERVICE_KEY)).rejects.toMatchObject({
      stderr: expect.stringMatching(/--key: must be an API key fingerprint/),
    });
    await expect(cli('--since', 'last week')).rejects.toMatchObject({ stderr: expect.stringMatching(/--since:/) });
  });
});
