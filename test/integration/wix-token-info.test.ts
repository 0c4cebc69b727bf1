import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.ts';
import { createTokenInfoChecker, TOKEN_INFO_CACHE_MS } from '../../src/wix/token-info.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { createTestRegistry, TEST_APP_ID, type TestRegistry } from '../helpers/registry.ts';

const clock = createManualClock(Date.UTC(2026, 10, 1));
let wix: RunningFakeWix;
beforeAll(async () => {
  // The fake's token lifetimes follow the same manual clock as the registry.
  wix = await startFakeWix({ nowSec: () => Math.floor(clock.now() / 1000) });
});
afterAll(() => wix.close());
beforeEach(() => {
  wix.fake.calls.length = 0;
  wix.fake.clearFaults();
});

describe("the token-info cache behind GET /app/instance (the registry's defaults)", () => {
  let t: TestRegistry;
  beforeEach(async () => {
    t = await createTestRegistry({ wixApiBaseUrl: wix.url, now: clock.now() });
    await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId: 'site-a', iat: Math.floor(t.clock.now() / 1000) }));
  });
  afterEach(() => t.close());

  const ask = (token: string) => t.app.request('/app/instance', { headers: { authorization: token } });
  /** Moves the registry's clock and the fake Wix's together. */
  const moveTo = (ms: number) => {
    t.clock.set(ms);
    clock.set(ms);
  };

  it('reuses an answer for 60 s: a token revoked meanwhile is still accepted at 59.999 s, refused at 60 s', async () => {
    expect(TOKEN_INFO_CACHE_MS).toBe(60_000);
    const start = t.clock.now();
    clock.set(start);
    const token = wix.fake.issueFrontendToken('site-a');
    expect((await ask(token)).status).toBe(200);
    wix.fake.revokeToken(token);
    moveTo(start + 59_999);
    expect((await ask(token)).status).toBe(200);
    expect(wix.fake.callsTo('token-info')).toHaveLength(1);
    moveTo(start + 60_000);
    expect((await ask(token)).status).toBe(401);
    expect(wix.fake.callsTo('token-info')).toHaveLength(2);
  });

  it("never reuses an answer past the token's exp, even inside the 60 s", async () => {
    const start = t.clock.now();
    clock.set(start);
    const token = wix.fake.issueFrontendToken('site-a', { lifetimeSec: 30 });
    const expMs = (Math.floor(start / 1000) + 30) * 1000;
    expect((await ask(token)).status).toBe(200);
    moveTo(expMs - 1);
    expect((await ask(token)).status).toBe(200);
    expect(wix.fake.callsTo('token-info')).toHaveLength(1);
    moveTo(expMs);
    expect((await ask(token)).status).toBe(401);
    expect(wix.fake.callsTo('token-info')).toHaveLength(2);
  });
});

describe('token-info checks in flight', () => {
  it('identical checks share one call to Wix; different tokens do not', async () => {
    const check = createTokenInfoChecker({ appId: TEST_APP_ID, wixApiBaseUrl: wix.url, clock });
    const a = wix.fake.issueFrontendToken('site-a');
    const b = wix.fake.issueFrontendToken('site-b');
    wix.fake.fail('token-info', { kind: 'delay', ms: 200 });
    const first = check(a);
    while (wix.fake.callsTo('token-info').length === 0) await new Promise((r) => setImmediate(r)); // Wix holds it now
    const results = await Promise.all([first, ...Array.from({ length: 9 }, () => check(a)), check(b)]);
    expect(results.map((r) => (r.ok ? r.instance.instanceId : r.reason))).toEqual([...Array(10).fill('site-a'), 'site-b']);
    expect(wix.fake.callsTo('token-info')).toHaveLength(2);
  });

  it('a failed check is shared by the callers that waited for it, and not cached', async () => {
    const check = createTokenInfoChecker({ appId: TEST_APP_ID, wixApiBaseUrl: wix.url, clock });
    const a = wix.fake.issueFrontendToken('site-a');
    wix.fake.fail('token-info', { kind: 'status', status: 503 });
    const outcomes = await Promise.allSettled([check(a), check(a), check(a)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(outcomes[0]).toMatchObject({ reason: { kind: 'unavailable', details: { status: 503 } } });
    expect(await check(a)).toMatchObject({ ok: true });
    expect(wix.fake.callsTo('token-info')).toHaveLength(2);
  });
});
