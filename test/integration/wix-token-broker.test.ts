import { appInstances, biEvents } from '@wix/app-management';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.ts';
import { WixCallError } from '../../src/wix/errors.ts';
import { createTokenBroker, TOKEN_REFRESH_MARGIN_MS } from '../../src/wix/token-broker.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { createTestRegistry, TEST_APP_ID, TEST_APP_SECRET, type TestRegistry } from '../helpers/registry.ts';

let wix: RunningFakeWix;
beforeAll(async () => {
  wix = await startFakeWix();
});
afterAll(() => wix.close());
beforeEach(() => {
  wix.fake.calls.length = 0;
  wix.fake.clearFaults();
});

describe('token broker (the real AppStrategy request, against the fake Wix over HTTP)', () => {
  const statuses = new Map<string, 'active' | 'removed'>();
  const clock = createManualClock(Date.UTC(2026, 10, 1));
  const broker = (extra: Partial<Parameters<typeof createTokenBroker>[0]> = {}) =>
    createTokenBroker({
      appId: TEST_APP_ID,
      appSecret: TEST_APP_SECRET,
      wixApiBaseUrl: wix.url,
      clock,
      // Async, as storage is: a status lookup takes a turn of the event loop.
      instanceStatus: async (id) => {
        await new Promise((r) => setImmediate(r));
        return statuses.get(id) ?? (id.startsWith('active-') ? 'active' : undefined);
      },
      timeoutMs: 1_000,
      ...extra,
    });

  it('sends exactly the client-credentials request of docs/wix-protocol.md §2', async () => {
    const token = await broker().getAccessToken('active-1');
    expect(token.token).toMatch(/^OauthNG\.JWS\./);
    expect(token.expiresAt).toBe(clock.now() + 14_400_000);
    const [call] = wix.fake.callsTo('token');
    expect(call?.body).toEqual({
      grant_type: 'client_credentials',
      client_id: TEST_APP_ID,
      client_secret: TEST_APP_SECRET,
      instance_id: 'active-1',
    });
  });

  it('gives 50 simultaneous callers one token request', async () => {
    const b = broker();
    const tokens = await Promise.all(Array.from({ length: 50 }, () => b.getAccessToken('active-2')));
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
    expect(wix.fake.callsTo('token')).toHaveLength(1);
  });

  it('replaces a token the margin before it expires, never later', async () => {
    const b = broker();
    const first = await b.getAccessToken('active-3');
    clock.set(first.expiresAt - TOKEN_REFRESH_MARGIN_MS - 1);
    expect((await b.getAccessToken('active-3')).token).toBe(first.token);
    clock.advance(2);
    const second = await b.getAccessToken('active-3');
    expect(second.token).not.toBe(first.token);
    expect(wix.fake.callsTo('token')).toHaveLength(2);
  });

  it('a token is replaced 5 minutes before it expires, by default', async () => {
    expect(TOKEN_REFRESH_MARGIN_MS).toBe(300_000);
    const b = createTokenBroker({
      appId: TEST_APP_ID,
      appSecret: TEST_APP_SECRET,
      wixApiBaseUrl: wix.url,
      clock,
      instanceStatus: async () => 'active',
    });
    const first = await b.getAccessToken('active-5');
    clock.set(first.expiresAt - 300_000 - 1);
    expect((await b.getAccessToken('active-5')).token).toBe(first.token);
    clock.set(first.expiresAt - 300_000);
    expect((await b.getAccessToken('active-5')).token).not.toBe(first.token);
    expect(wix.fake.callsTo('token')).toHaveLength(2);
  });

  it('shares one request in flight between callers arriving while it runs, across instances only one each', async () => {
    const b = broker();
    wix.fake.fail('token', { kind: 'delay', ms: 200 });
    const early = Array.from({ length: 20 }, () => b.getAccessToken('active-6'));
    while (wix.fake.callsTo('token').length === 0) await new Promise((r) => setImmediate(r)); // Wix holds it now
    const late = Array.from({ length: 20 }, () => b.getAccessToken('active-6'));
    const other = Array.from({ length: 5 }, () => b.getAccessToken('active-7'));
    const tokens = await Promise.all([...early, ...late]);
    await Promise.all(other);
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
    expect(
      wix.fake
        .callsTo('token')
        .map((c) => (c.body as { instance_id: string }).instance_id)
        .sort(),
    ).toEqual(['active-6', 'active-7']);
  });

  it('a removal forgets the cached token: the instance is refused, and a reinstall gets a fresh one', async () => {
    const b = broker();
    const before = await b.getAccessToken('active-8');
    statuses.set('active-8', 'removed');
    b.forget('active-8');
    await expect(b.getAccessToken('active-8')).rejects.toMatchObject({ kind: 'removed_instance' });
    statuses.delete('active-8');
    expect((await b.getAccessToken('active-8')).token).not.toBe(before.token);
    expect(b.cachedTokens).toBe(1);
  });

  it('keeps at most maxEntries tokens (LRU)', async () => {
    const b = broker({ maxEntries: 2 });
    await b.getAccessToken('active-a');
    await b.getAccessToken('active-b');
    await b.getAccessToken('active-a');
    await b.getAccessToken('active-c'); // evicts b, the least recently used
    expect(b.cachedTokens).toBe(2);
    await b.getAccessToken('active-a');
    expect(wix.fake.callsTo('token')).toHaveLength(3);
    await b.getAccessToken('active-b');
    expect(wix.fake.callsTo('token')).toHaveLength(4);
  });

  it('refuses unknown and removed instances without calling Wix', async () => {
    statuses.set('gone-1', 'removed');
    await expect(broker().getAccessToken('nobody')).rejects.toMatchObject({ kind: 'unknown_instance' });
    await expect(broker().getAccessToken('gone-1')).rejects.toMatchObject({ kind: 'removed_instance' });
    expect(wix.fake.calls).toHaveLength(0);
  });

  it('tells Wix refusing (app removed in Wix) from Wix failing and from no answer', async () => {
    wix.fake.markRemoved('active-removed-in-wix');
    const refused = await broker()
      .getAccessToken('active-removed-in-wix')
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WixCallError);
    expect(refused).toMatchObject({ kind: 'refused', details: { status: 403 } });

    wix.fake.fail('token', { kind: 'status', status: 503 });
    await expect(broker().getAccessToken('active-4')).rejects.toMatchObject({ kind: 'unavailable', details: { status: 503 } });
    wix.fake.fail('token', { kind: 'status', status: 429, retryAfterSec: 7 });
    await expect(broker().getAccessToken('active-4')).rejects.toMatchObject({
      kind: 'unavailable',
      details: { status: 429, retryAfterMs: 7000 },
    });
    wix.fake.fail('token', { kind: 'drop' });
    await expect(broker().getAccessToken('active-4')).rejects.toMatchObject({ kind: 'network' });
    wix.fake.fail('token', { kind: 'delay', ms: 1_500 });
    await expect(broker().getAccessToken('active-4')).rejects.toMatchObject({
      kind: 'network',
      message: expect.stringContaining('timed out'),
    });
    // A failure is not cached: the next call asks again and succeeds.
    await expect(broker().getAccessToken('active-4')).resolves.toMatchObject({ token: expect.any(String) });
  });
});

describe('registry.clientFor: real @wix/sdk clients per instance', () => {
  let t: TestRegistry;
  beforeEach(async () => {
    t = await createTestRegistry({ wixApiBaseUrl: wix.url });
    await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId: 'inst-1', iat: Math.floor(t.clock.now() / 1000) }));
  });
  afterEach(() => t.close());

  it('every module works and takes its token from the shared broker', async () => {
    const client = t.registry.clientFor('inst-1', { appInstances, biEvents });
    const answer = await client.appInstances.getAppInstance();
    expect(answer.instance?.instanceId).toBe('inst-1');
    expect(answer.site?.siteDisplayName).toContain('Sandbox Site');
    await client.biEvents.sendBiEvent({ eventName: 'APP_FINISHED_CONFIGURATION' as never });
    const other = t.registry.clientFor('inst-1', { appInstances });
    await other.appInstances.getAppInstance();
    expect(wix.fake.callsTo('token')).toHaveLength(1);
    expect(wix.fake.biEvents.at(-1)).toMatchObject({ instanceId: 'inst-1', eventName: 'APP_FINISHED_CONFIGURATION' });
    // API calls carry the raw token, no "Bearer " prefix (docs/wix-protocol.md §2).
    expect(wix.fake.callsTo('instance')[0]?.authorization).toMatch(/^OauthNG\.JWS\./);
  });

  it('a 401 from Wix drops the token and retries the call once with a fresh one', async () => {
    const client = t.registry.clientFor('inst-1', { appInstances });
    await client.appInstances.getAppInstance();
    wix.fake.expireTokens();
    const answer = await client.appInstances.getAppInstance();
    expect(answer.instance?.instanceId).toBe('inst-1');
    expect(wix.fake.callsTo('token')).toHaveLength(2);
    expect(wix.fake.callsTo('instance')).toHaveLength(3);
  });

  it('a second 401 in a row fails the call instead of looping', async () => {
    const client = t.registry.clientFor('inst-1', { appInstances });
    wix.fake.fail('instance', { kind: 'status', status: 401 }, { kind: 'status', status: 401 });
    await expect(client.appInstances.getAppInstance()).rejects.toBeTruthy();
    expect(wix.fake.callsTo('instance')).toHaveLength(2);
  });

  it('refuses an unknown instance without calling Wix', async () => {
    const client = t.registry.clientFor('never-installed', { appInstances });
    await expect(client.appInstances.getAppInstance()).rejects.toBeTruthy();
    expect(wix.fake.calls).toHaveLength(0);
  });
});
