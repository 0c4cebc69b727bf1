import { appInstances, biEvents } from '@wix/app-management';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRegistryClient, RegistryError, type Fetch, type RegistryClientOptions } from '../../client/src/index.ts';
import { createManualClock } from '../../src/clock.ts';
import { listenLocal } from '../../src/sandbox/fake-wix.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { createTestRegistry, TEST_API_KEY, TEST_APP_SECRET, type TestRegistry } from '../helpers/registry.ts';

/** Wix's token lifetime, which the fake Wix gives too (wix-protocol.md §2). */
const TOKEN_TTL_MS = 14_400_000;

let wix: RunningFakeWix;
beforeAll(async () => {
  wix = await startFakeWix();
});
afterAll(() => wix.close());

let t: TestRegistry;
let registryUrl: string;
let closeListener: () => Promise<void>;
/** Every request the client sent, registry and Wix alike: "METHOD url body". */
let sent: string[];

beforeEach(async () => {
  wix.fake.calls.length = 0;
  wix.fake.clearFaults();
  // The fake Wix and the client run on real time, like the processes they stand for.
  t = await createTestRegistry({ wixApiBaseUrl: wix.url, now: Date.now() });
  const nowSec = Math.floor(t.clock.now() / 1000);
  for (const [eventType, instanceId, age] of [
    ['AppInstalled', 'live-1', 30],
    ['AppInstalled', 'live-2', 20],
    ['AppInstalled', 'live-3', 10],
    ['AppInstalled', 'gone-1', 40],
    ['AppRemoved', 'gone-1', 5],
  ] as const) {
    expect((await t.deliver(await t.signer.sign({ eventType, instanceId, iat: nowSec - age }))).status).toBe(200);
  }
  // A real HTTP listener in front of whichever registry t holds now (t.restart() builds a new one).
  const listener = await listenLocal({ fetch: (request: Request, env?: unknown) => t.app.fetch(request, env) });
  registryUrl = listener.url;
  closeListener = listener.close;
  sent = [];
});
afterEach(async () => {
  await closeListener();
  await t.close();
});

const recordingFetch: Fetch = (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  sent.push(`${init?.method ?? 'GET'} ${url} ${typeof init?.body === 'string' ? init.body : ''}`);
  return fetch(input, init);
};
const tokenRequests = () => sent.filter((s) => s.includes('/access-token'));
const client = (options: Partial<RegistryClientOptions> = {}) =>
  createRegistryClient({ url: registryUrl, apiKey: TEST_API_KEY, wixApiBaseUrl: wix.url, fetch: recordingFetch, ...options });
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err as RegistryError,
  );

describe('registry.wixClient(): @wix/sdk clients whose tokens come from the registry', () => {
  it('calls Wix with the token the registry handed out; concurrent calls and later clients share one token request; no secret leaves the registry', async () => {
    const registry = client();
    const wixClient = registry.wixClient('live-1', { appInstances, biEvents });
    const [a, b] = await Promise.all([wixClient.appInstances.getAppInstance(), wixClient.appInstances.getAppInstance()]);
    expect(a.instance?.instanceId).toBe('live-1');
    expect(b.instance?.instanceId).toBe('live-1');
    await wixClient.biEvents.sendBiEvent({ eventName: 'APP_FINISHED_CONFIGURATION' as never });
    const again = await registry.wixClient('live-1', { appInstances }).appInstances.getAppInstance();
    expect(again.instance?.instanceId).toBe('live-1');

    expect(tokenRequests()).toEqual([`POST ${registryUrl}/v1/installations/live-1/access-token `]);
    expect(wix.fake.biEvents).toEqual([expect.objectContaining({ instanceId: 'live-1', eventName: 'APP_FINISHED_CONFIGURATION' })]);
    // The fake Wix issued one token (to the registry) and saw it on every call, without `Bearer`.
    expect(wix.fake.callsTo('token')).toHaveLength(1);
    const authorizations = new Set(wix.fake.calls.filter((c) => c.route !== 'token').map((c) => c.authorization));
    expect([...authorizations]).toEqual([await registry.accessToken('live-1')]);
    expect([...authorizations][0]).toMatch(/^OauthNG\.JWS\./);
    // The SDK's https://www.wixapis.com calls went to the configured base instead.
    expect(sent.filter((s) => !s.includes('/access-token')).every((s) => s.includes(` ${wix.url}/apps/v1/`))).toBe(true);
    expect(sent.join('\n')).not.toContain(TEST_APP_SECRET);
  });

  it('keeps a token until 60 s before the expiry the registry gave, then asks again', async () => {
    const clock = createManualClock(Date.now());
    const registry = client({ clock });
    const expiresAt = t.clock.now() + TOKEN_TTL_MS;
    await registry.accessToken('live-1');
    clock.set(expiresAt - 60_000 - 1);
    await registry.accessToken('live-1');
    expect(tokenRequests()).toHaveLength(1);
    clock.set(expiresAt - 60_000);
    await registry.accessToken('live-1');
    expect(tokenRequests()).toHaveLength(2);
  });

  it('50 concurrent calls on a cold cache make one token request per instance', async () => {
    const registry = client();
    const ids = ['live-1', 'live-2'];
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => registry.wixClient(ids[i % 2]!, { appInstances }).appInstances.getAppInstance()),
    );
    expect(answers.map((a) => a.instance?.instanceId)).toEqual(Array.from({ length: 50 }, (_, i) => ids[i % 2]));
    expect(tokenRequests().sort()).toEqual(ids.map((id) => `POST ${registryUrl}/v1/installations/${id}/access-token `));
  });

  it('on a 401 from Wix, retries the call once with a fresh token', async () => {
    const registry = client();
    const rejected = await registry.accessToken('live-1');
    wix.fake.revokeToken(rejected);
    // A registry that lost its cache (a restart) asks Wix for a new token; the client learns of it through the 401.
    await t.restart();
    const answer = await registry.wixClient('live-1', { appInstances }).appInstances.getAppInstance();
    expect(answer.instance?.instanceId).toBe('live-1');
    expect(tokenRequests()).toHaveLength(2);
    const instanceCalls = wix.fake.callsTo('instance').map((c) => c.authorization);
    expect(instanceCalls).toHaveLength(2);
    expect(instanceCalls[0]).toBe(rejected);
    expect(instanceCalls[1]).not.toBe(rejected);
  });

  it('when the registry hands back the very token Wix rejected, the 401 reaches the caller without a second call to Wix', async () => {
    const registry = client();
    wix.fake.revokeToken(await registry.accessToken('live-1'));
    const error = await failureOf(registry.wixClient('live-1', { appInstances }).appInstances.getAppInstance());
    expect(error).not.toBeInstanceOf(RegistryError);
    expect((error as unknown as { details?: { applicationError?: { code?: string } } }).details?.applicationError?.code).toBe(
      'UNAUTHORIZED',
    );
    expect(tokenRequests()).toHaveLength(2);
    expect(wix.fake.callsTo('instance')).toHaveLength(1);
  });
});

describe('failures say whether the registry or Wix refused, or was down', () => {
  it('through an SDK call: unknown (404) and removed (410) instances, without calling Wix; the error keeps what the registry said', async () => {
    const registry = client();
    const unknown = await failureOf(registry.wixClient('nobody', { appInstances }).appInstances.getAppInstance());
    expect(unknown).toBeInstanceOf(RegistryError);
    expect(unknown).toMatchObject({ kind: 'unknown_instance', status: 404, code: 'not_found', instanceId: 'nobody', retryable: false });
    // Not the SDK's "System error occurred": @wix/sdk-runtime rewrites message, status and code of anything thrown in a call.
    expect(unknown.message).toBe(
      'Registry POST /v1/installations/nobody/access-token: 404 not_found (No installation with that instanceId)',
    );
    expect(unknown.requestId).toMatch(/\S/);
    expect(unknown.stack?.split('\n')[0]).toBe(`RegistryError: ${unknown.message}`);

    const removed = await failureOf(registry.wixClient('gone-1', { appInstances }).appInstances.getAppInstance());
    expect(removed).toMatchObject({ kind: 'removed_instance', status: 410, code: 'gone', retryable: false });
    expect(wix.fake.calls).toHaveLength(0);
  });

  it('Wix refusing a token (refused) is told apart from Wix failing (unavailable), both 502 from the registry', async () => {
    const registry = client();
    wix.fake.markRemoved('live-2');
    const refused = await failureOf(registry.wixClient('live-2', { appInstances }).appInstances.getAppInstance());
    expect(refused).toMatchObject({ kind: 'refused', status: 502, code: 'wix_refused', retryable: false });

    wix.fake.fail('token', { kind: 'status', status: 500 });
    const failed = await failureOf(registry.accessToken('live-3'));
    expect(failed).toMatchObject({ kind: 'unavailable', status: 502, code: 'bad_gateway', retryable: true });
    wix.fake.fail('token', { kind: 'drop' });
    expect(await failureOf(registry.accessToken('live-3'))).toMatchObject({ kind: 'unavailable', status: 502, retryable: true });
    // Failures are not cached: Wix is back, the token comes.
    expect(await registry.accessToken('live-3')).toMatch(/^OauthNG\.JWS\./);
  });

  it('the registry down (no answer) is network; a 503 is unavailable; a wrong key is unauthorized', async () => {
    const down = createRegistryClient({ url: 'http://127.0.0.1:9', apiKey: TEST_API_KEY });
    const network = await failureOf(down.wixClient('live-1', { appInstances }).appInstances.getAppInstance());
    expect(network).toMatchObject({ kind: 'network', status: undefined, retryable: true });
    expect(network.cause).toBeInstanceOf(Error);

    const busy = client({
      fetch: async () =>
        new Response(JSON.stringify({ error: { code: 'unavailable', message: 'Storage is unavailable', requestId: 'r-1' } }), {
          status: 503,
          headers: { 'content-type': 'application/json', 'retry-after': '7' },
        }),
    });
    expect(await failureOf(busy.accessToken('live-1'))).toMatchObject({
      kind: 'unavailable',
      status: 503,
      requestId: 'r-1',
      retryAfterMs: 7_000,
      retryable: true,
    });

    const wrongKey = client({ apiKey: 'wrong-key-0123456789abcdef' });
    expect(await failureOf(wrongKey.accessToken('live-1'))).toMatchObject({ kind: 'unauthorized', status: 401, retryable: false });
  });
});

describe('registry.installations', () => {
  it('list() returns one typed page; all() follows the cursors to every match exactly once', async () => {
    const registry = client();
    const first = await registry.installations.list({ status: 'active', limit: 1 });
    expect(first.items.map((i) => i.instanceId)).toEqual(['live-3']);
    expect(first.nextCursor).toEqual(expect.any(String));

    const all: string[] = [];
    for await (const installation of registry.installations.all({ status: 'active', limit: 1 })) all.push(installation.instanceId);
    expect(all).toEqual(['live-3', 'live-2', 'live-1']);
    expect(sent.filter((s) => s.includes('/v1/installations?'))).toHaveLength(1 + 3);

    const removed = await registry.installations.list({
      status: 'removed',
      installedFrom: new Date(t.clock.now() - 3_600_000),
      sort: 'removedAt',
    });
    expect(removed).toEqual({
      items: [expect.objectContaining({ instanceId: 'gone-1', status: 'removed', removedAt: expect.any(String) })],
      nextCursor: null,
    });
  });

  it('get() returns the installation and its history; an unknown one is unknown_instance; a bad parameter is bad_request', async () => {
    const registry = client();
    const detail = await registry.installations.get('gone-1');
    expect(detail.installation).toMatchObject({ instanceId: 'gone-1', status: 'removed' });
    expect(detail.events.map((e) => e.eventType)).toEqual(['AppInstalled', 'AppRemoved']);

    expect(await failureOf(registry.installations.get('nobody'))).toMatchObject({ kind: 'unknown_instance', status: 404 });
    const bad = await failureOf(registry.installations.list({ limit: 0 }));
    expect(bad).toMatchObject({ kind: 'bad_request', status: 400, code: 'bad_request' });
    expect(bad.message).toContain('limit');
  });
});
