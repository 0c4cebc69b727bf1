import { appInstances } from '@wix/app-management';
import { AppStrategy } from '@wix/sdk';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createManualClock } from '../../src/clock.ts';
import { WixCallError } from '../../src/wix/errors.ts';
import { createInstanceClients } from '../../src/wix/instance-clients.ts';
import { getAppInstance, sendFinishedConfiguration } from '../../src/wix/instance-calls.ts';
import { createTokenBroker } from '../../src/wix/token-broker.ts';
import { createTokenInfoChecker } from '../../src/wix/token-info.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { TEST_APP_ID, TEST_APP_SECRET } from '../helpers/registry.ts';

let wix: RunningFakeWix;
beforeAll(async () => {
  wix = await startFakeWix();
});
afterAll(() => wix.close());
beforeEach(() => {
  wix.fake.calls.length = 0;
  wix.fake.clearFaults();
});
afterEach(() => {
  vi.unstubAllGlobals();
});

/** A request as it would go on the wire, plus the header names exactly as the caller spelled them. */
async function describeRequest(input: Parameters<typeof fetch>[0], init: RequestInit | undefined) {
  const request = new Request(input, init);
  const bytes = Buffer.from(await request.arrayBuffer());
  return {
    method: request.method,
    url: request.url,
    path: new URL(request.url).pathname,
    headers: [...request.headers.entries()],
    headerNamesAsGiven:
      init?.headers && !(init.headers instanceof Headers) && !Array.isArray(init.headers) ? Object.keys(init.headers) : null,
    body: bytes.toString('hex'),
    /** The same bytes, readable when the comparison fails. */
    bodyText: bytes.toString('utf8'),
  };
}

const tokenAnswer = () =>
  new Response(JSON.stringify({ access_token: 'OauthNG.JWS.captured', token_type: 'Bearer', expires_in: 14_400 }), {
    status: 200,
    headers: { 'content-type': 'application/json' },
  });

describe('our token request', () => {
  it('is byte for byte the request AppStrategy({ appId, appSecret, instanceId }) sends', async () => {
    const instanceId = '6f1c1a55-1b52-4c1e-9a39-4f5f2a0e9c11';
    const sdkSent: Awaited<ReturnType<typeof describeRequest>>[] = [];
    // Only here, in a test: the SDK's token request uses the global fetch, so that is where to watch it.
    vi.stubGlobal('fetch', async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      sdkSent.push(await describeRequest(input, init));
      return tokenAnswer();
    });
    const sdkHeaders = await AppStrategy({ appId: TEST_APP_ID, appSecret: TEST_APP_SECRET, instanceId }).getAuthHeaders(undefined);
    vi.unstubAllGlobals();
    expect(sdkHeaders.headers.Authorization).toBe('OauthNG.JWS.captured');

    const weSent: Awaited<ReturnType<typeof describeRequest>>[] = [];
    const broker = createTokenBroker({
      appId: TEST_APP_ID,
      appSecret: TEST_APP_SECRET,
      wixApiBaseUrl: 'https://www.wixapis.com',
      clock: createManualClock(),
      instanceStatus: async () => 'active',
      fetch: async (input, init) => {
        weSent.push(await describeRequest(input, init));
        return tokenAnswer();
      },
    });
    expect((await broker.getAccessToken(instanceId)).token).toBe('OauthNG.JWS.captured');

    expect(sdkSent).toHaveLength(1);
    expect(weSent).toEqual(sdkSent);
    expect(weSent[0]).toMatchObject({ method: 'POST', url: 'https://www.wixapis.com/oauth2/token', headerNamesAsGiven: ['Content-Type'] });
  });

  it('goes to WIX_API_BASE_URL, path prefix kept, and returns the expiry Wix gave', async () => {
    const clock = createManualClock(Date.UTC(2026, 10, 1));
    const seen: string[] = [];
    const broker = createTokenBroker({
      appId: TEST_APP_ID,
      appSecret: TEST_APP_SECRET,
      wixApiBaseUrl: 'http://wix.internal:8080/prefix',
      clock,
      instanceStatus: async () => 'active',
      fetch: async (input) => {
        seen.push(input instanceof Request ? input.url : input.toString());
        return tokenAnswer();
      },
    });
    expect((await broker.getAccessToken('i-1')).expiresAt).toBe(clock.now() + 14_400_000);
    expect(seen).toEqual(['http://wix.internal:8080/prefix/oauth2/token']);
  });
});

describe('per-instance clients: failures come back as thrown WixCallErrors', () => {
  const clock = createManualClock(Date.UTC(2026, 10, 1));
  const build = (timeoutMs = 1_000) => {
    const broker = createTokenBroker({
      appId: TEST_APP_ID,
      appSecret: TEST_APP_SECRET,
      wixApiBaseUrl: wix.url,
      clock,
      instanceStatus: async (id) => (id === 'nobody' ? undefined : 'active'),
      timeoutMs,
    });
    return createInstanceClients({ wixApiBaseUrl: wix.url, broker, timeoutMs });
  };

  it('an SDK call sees kind and details (status, Retry-After) of what Wix answered', async () => {
    const clients = build();
    wix.fake.fail('instance', { kind: 'status', status: 503, retryAfterSec: 7 });
    const err = await clients
      .clientFor('i-1', { appInstances })
      .appInstances.getAppInstance()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WixCallError);
    expect(err).toMatchObject({ kind: 'unavailable', details: { status: 503, retryAfterMs: 7_000 } });
  });

  it('the typed calls reject with a clean, classified error (the SDK rewrites the message of what it passes on)', async () => {
    const clients = build();
    wix.fake.fail('bi-event', { kind: 'status', status: 403, body: { message: 'App is not installed' } });
    await expect(sendFinishedConfiguration(clients, 'i-1')).rejects.toMatchObject({
      kind: 'refused',
      message: 'Wix call for instance i-1: Wix answered 403 (App is not installed)',
      details: { status: 403, wixMessage: 'App is not installed' },
    });
    wix.fake.fail('instance', { kind: 'drop' });
    await expect(getAppInstance(clients, 'i-1')).rejects.toMatchObject({
      kind: 'network',
      message: 'Wix call for instance i-1: no answer',
    });
    await expect(getAppInstance(clients, 'nobody')).rejects.toMatchObject({
      kind: 'unknown_instance',
      message: 'Instance nobody is not known to the registry',
    });
    wix.fake.markRemoved('i-gone');
    await expect(sendFinishedConfiguration(clients, 'i-gone')).rejects.toMatchObject({ kind: 'refused', details: { status: 403 } });
  });

  it('getAppInstance returns the site as the registry stores it', async () => {
    expect(await getAppInstance(build(), 'i-3')).toEqual({
      siteId: 'site-i-3',
      siteName: 'Sandbox Site i-3',
      siteUrl: 'https://sandbox-i-3.wixsite.com/site',
      appVersion: '1.4.0',
      isFree: true,
    });
  });

  it('a call is bounded by the injected timeout: a slower answer is a network failure, a quicker one succeeds', async () => {
    const clients = build(300);
    await getAppInstance(clients, 'i-4'); // the token first, so only the call below is slow
    wix.fake.fail('instance', { kind: 'delay', ms: 2_000 });
    await expect(getAppInstance(clients, 'i-4')).rejects.toMatchObject({
      kind: 'network',
      message: 'Wix call for instance i-4: timed out',
    });
    wix.fake.fail('instance', { kind: 'delay', ms: 50 });
    await expect(getAppInstance(clients, 'i-4')).resolves.toMatchObject({ siteId: 'site-i-4' });
  });

  it('leaves the global fetch alone', async () => {
    const before = globalThis.fetch;
    const clients = build();
    await getAppInstance(clients, 'i-5');
    await sendFinishedConfiguration(clients, 'i-5');
    await createTokenInfoChecker({ appId: TEST_APP_ID, wixApiBaseUrl: wix.url, clock })(wix.fake.issueFrontendToken('i-5'));
    expect(globalThis.fetch).toBe(before);
    expect(wix.fake.callsTo('token')).toHaveLength(1);
  });
});
