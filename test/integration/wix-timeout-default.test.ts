import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appInstances } from '@wix/app-management';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createManualClock } from '../../src/clock.ts';
import { openStore } from '../../src/db/open-store.ts';
import type { RegistryStore } from '../../src/db/store.ts';
import { createLogger } from '../../src/logger.ts';
import { createRegistry, type Registry } from '../../src/registry.ts';
import { WIX_REQUEST_TIMEOUT_MS } from '../../src/wix/fetch-routing.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { TEST_API_KEY, TEST_APP_ID, TEST_APP_SECRET } from '../helpers/registry.ts';
import { createTestSigner } from '../helpers/sign.ts';

/**
 * The 10 s bound users rely on, as the registry applies it when nothing is configured. Fake timers
 * move time past it instead of waiting (only setTimeout/clearTimeout are faked: the timeout and the
 * fake Wix's slow answer both run on them; sockets and setImmediate stay real).
 */
let wix: RunningFakeWix;
let registry: Registry;
let store: RegistryStore;
let dir: string;
const clock = createManualClock(Date.now());

beforeAll(async () => {
  wix = await startFakeWix();
  const signer = await createTestSigner();
  dir = mkdtempSync(join(tmpdir(), 'wix-registry-timeout-'));
  store = await openStore(join(dir, 'registry.db'), { threads: true, sqlite: { readers: 1 } });
  registry = createRegistry({
    wix: { appId: TEST_APP_ID, appSecret: TEST_APP_SECRET, publicKeys: [createPublicKey(signer.publicKeyPem)] },
    wixApiBaseUrl: wix.url,
    apiKeys: [TEST_API_KEY],
    store,
    logger: createLogger('silent'),
    clock,
    // no wixRequestTimeoutMs: the default is under test
  });
  const installed = await signer.sign({ eventType: 'AppInstalled', instanceId: 'slow-1', iat: Math.floor(clock.now() / 1000) });
  const res = await registry.app.request('/webhooks/wix', { method: 'POST', body: installed, headers: { 'content-type': 'text/plain' } });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  vi.useRealTimers();
  await registry.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  await wix.close();
});

/** Starts `call` under fake timers; reports whether it had settled at 9,999 ms, and how it ended at 10,000 ms. */
async function settleAtTheBound(route: Parameters<RunningFakeWix['fake']['fail']>[0], call: () => unknown) {
  wix.fake.calls.length = 0;
  wix.fake.fail(route, { kind: 'delay', ms: 60_000 });
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  try {
    let settled = false;
    const outcome = Promise.resolve()
      .then(call)
      .then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
    void outcome.then(() => (settled = true));
    // Until the fake Wix holds the request (not vi.waitFor: under fake timers it advances them).
    while (wix.fake.callsTo(route).length === 0) await new Promise((r) => setImmediate(r));
    await vi.advanceTimersByTimeAsync(WIX_REQUEST_TIMEOUT_MS - 1);
    await new Promise((r) => setImmediate(r));
    const settledBefore = settled;
    await vi.advanceTimersByTimeAsync(1);
    // The abort settles the call within a few turns of the event loop; a later bound never would.
    for (let turn = 0; turn < 100 && !settled; turn++) await new Promise((r) => setImmediate(r));
    expect(settled, 'settled once 10,000 ms had passed').toBe(true);
    return { settledBefore, outcome: await outcome };
  } finally {
    vi.useRealTimers();
    wix.fake.clearFaults();
  }
}

describe('the 10 s Wix timeout', () => {
  it('is 10,000 ms', () => {
    expect(WIX_REQUEST_TIMEOUT_MS).toBe(10_000);
  });

  it('bounds the token request of a registry built without wixRequestTimeoutMs', async () => {
    const { settledBefore, outcome } = await settleAtTheBound('token', () => registry.broker.getAccessToken('slow-1'));
    expect(settledBefore).toBe(false);
    expect(outcome).toEqual({
      error: expect.objectContaining({ kind: 'network', message: 'Token request for instance slow-1: timed out' }),
    });
  });

  it('bounds an SDK call made through registry.clientFor', async () => {
    await registry.clientFor('slow-1', { appInstances }).appInstances.getAppInstance(); // a token first: only the call is slow
    const { settledBefore, outcome } = await settleAtTheBound('instance', () =>
      registry.clientFor('slow-1', { appInstances }).appInstances.getAppInstance(),
    );
    expect(settledBefore).toBe(false);
    expect(outcome).toEqual({ error: expect.objectContaining({ kind: 'network', reason: 'Wix call for instance slow-1: timed out' }) });
  });

  it('bounds the token-info check behind GET /app/instance (502 once Wix has not answered)', async () => {
    const token = wix.fake.issueFrontendToken('slow-1');
    const { settledBefore, outcome } = await settleAtTheBound('token-info', () =>
      registry.app.request('/app/instance', { headers: { authorization: token } }),
    );
    expect(settledBefore).toBe(false);
    expect((outcome as { value: Response }).value.status).toBe(502);
  });
});
