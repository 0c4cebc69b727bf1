import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiKeyFingerprint } from '../../src/http/api-key-auth.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { createTestRegistry, TEST_API_KEY, TEST_APP_SECRET, type TestRegistry } from '../helpers/registry.ts';

let wix: RunningFakeWix;
beforeAll(async () => {
  wix = await startFakeWix();
});
afterAll(() => wix.close());

describe('POST /v1/installations/:instanceId/access-token', () => {
  let t: TestRegistry;
  const nowSec = () => Math.floor(t.clock.now() / 1000);
  beforeEach(async () => {
    wix.fake.calls.length = 0;
    wix.fake.clearFaults();
    t = await createTestRegistry({ wixApiBaseUrl: wix.url, now: Date.now() });
    await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId: 'live-1', iat: nowSec() }));
    await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId: 'gone-1', iat: nowSec() - 10 }));
    await t.deliver(await t.signer.sign({ eventType: 'AppRemoved', instanceId: 'gone-1', iat: nowSec() }));
  });
  afterEach(() => t.close());

  const requestToken = (instanceId: string, headers: Record<string, string> = { authorization: `Bearer ${TEST_API_KEY}` }) =>
    t.app.request(`/v1/installations/${instanceId}/access-token`, { method: 'POST', headers });
  const audit = () => t.db.query('SELECT * FROM token_handouts ORDER BY id');

  it('hands out the instance token with its expiry, uncacheable, and audits it without the token', async () => {
    const res = await requestToken('live-1');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { accessToken: string; expiresAt: string };
    expect(body.accessToken).toMatch(/^OauthNG\.JWS\./);
    expect(body.expiresAt).toBe(new Date(t.clock.now() + 14_400_000).toISOString());
    const rows = await audit();
    expect(rows).toEqual([
      expect.objectContaining({
        api_key_id: apiKeyFingerprint(TEST_API_KEY),
        instance_id: 'live-1',
        outcome: 'issued',
        requested_at: t.clock.now(),
      }),
    ]);
    expect(JSON.stringify(rows)).not.toContain(body.accessToken);
    expect(JSON.stringify(rows)).not.toContain(TEST_API_KEY);
    // A second request is served from the shared cache.
    expect(((await (await requestToken('live-1')).json()) as { accessToken: string }).accessToken).toBe(body.accessToken);
    expect(wix.fake.callsTo('token')).toHaveLength(1);
  });

  it('404 for an unknown instance, 410 for a removed one, neither calling Wix; both audited', async () => {
    const unknown = await requestToken('nobody');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const gone = await requestToken('gone-1');
    expect(gone.status).toBe(410);
    expect(((await gone.json()) as { error: { code: string } }).error.code).toBe('gone');
    expect(wix.fake.calls).toHaveLength(0);
    expect((await audit()).map((r) => r.outcome)).toEqual(['unknown_instance', 'removed_instance']);
  });

  it('502 when Wix refuses (wix_refused) or fails (bad_gateway), with no internals in the body', async () => {
    const codeOf = async (res: Response) => [res.status, ((await res.json()) as { error: { code: string } }).error.code];
    wix.fake.markRemoved('live-1');
    const refused = await requestToken('live-1');
    expect(refused.status).toBe(502);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('wix_refused');
    expect(body.error.message).toContain('refused');
    expect(JSON.stringify(body)).not.toContain(TEST_APP_SECRET);
    wix.fake.markInstalled('live-1');
    wix.fake.fail('token', { kind: 'status', status: 500 });
    expect(await codeOf(await requestToken('live-1'))).toEqual([502, 'bad_gateway']);
    wix.fake.fail('token', { kind: 'drop' });
    expect(await codeOf(await requestToken('live-1'))).toEqual([502, 'bad_gateway']);
    expect((await audit()).map((r) => r.outcome)).toEqual(['refused', 'failed', 'failed']);
  });

  it('needs an API key', async () => {
    expect((await requestToken('live-1', {})).status).toBe(401);
    expect((await requestToken('live-1', { authorization: 'Bearer wrong-key-0123456789abc' })).status).toBe(401);
    expect(wix.fake.calls).toHaveLength(0);
    expect(await audit()).toHaveLength(0);
  });
});
