import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { createTestRegistry, type TestRegistry } from '../helpers/registry.ts';

let wix: RunningFakeWix;
beforeAll(async () => {
  wix = await startFakeWix();
});
afterAll(() => wix.close());

describe('GET /app/instance: the instance behind a frontend request', () => {
  let t: TestRegistry;
  beforeEach(async () => {
    wix.fake.calls.length = 0;
    wix.fake.clearFaults();
    t = await createTestRegistry({ wixApiBaseUrl: wix.url, corsOrigins: ['https://editor.wix.com'], now: Date.now() });
    await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId: 'site-a', iat: Math.floor(t.clock.now() / 1000) }));
  });
  afterEach(() => t.close());

  const ask = (authorization?: string, extra: Record<string, string> = {}) =>
    t.app.request('/app/instance', { headers: { ...(authorization !== undefined ? { authorization } : {}), ...extra } });

  it('answers the installation for an active token of this app (raw or Bearer), caching token-info', async () => {
    const token = wix.fake.issueFrontendToken('site-a');
    const res = await ask(token);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { installation: { instanceId: string; status: string } }).installation).toMatchObject({
      instanceId: 'site-a',
      status: 'active',
    });
    expect((await ask(`Bearer ${token}`)).status).toBe(200);
    expect(wix.fake.callsTo('token-info')).toHaveLength(1);
  });

  it('answers a removed instance with its status', async () => {
    await t.deliver(await t.signer.sign({ eventType: 'AppRemoved', instanceId: 'site-a', iat: Math.floor(t.clock.now() / 1000) + 1 }));
    const res = await ask(wix.fake.issueFrontendToken('site-a'));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { installation: { status: string } }).installation.status).toBe('removed');
  });

  it('401 for an inactive token, one issued to another app, and malformed headers', async () => {
    const revoked = wix.fake.issueFrontendToken('site-a');
    wix.fake.revokeToken(revoked);
    expect((await ask(revoked)).status).toBe(401);
    expect((await ask(wix.fake.issueFrontendToken('site-a', { clientId: 'another-app' }))).status).toBe(401);
    for (const header of [undefined, '', 'Bearer', 'Bearer a b c', 'x'.repeat(5000)]) {
      const res = await ask(header);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    }
    expect((await ask('OauthNG.JWS.not-a-token-wix-issued')).status).toBe(401);
  });

  it('404 for an instance the registry does not know', async () => {
    const res = await ask(wix.fake.issueFrontendToken('site-unknown'));
    expect(res.status).toBe(404);
  });

  it('502 when Wix cannot be asked (and nothing is cached)', async () => {
    wix.fake.fail('token-info', { kind: 'status', status: 503 });
    expect((await ask(wix.fake.issueFrontendToken('site-a'))).status).toBe(502);
  });

  it('does not keep a token-info answer past the token exp', async () => {
    const short = wix.fake.issueFrontendToken('site-a', { lifetimeSec: 5 });
    expect((await ask(short)).status).toBe(200);
    expect((await ask(short)).status).toBe(200);
    expect(wix.fake.callsTo('token-info')).toHaveLength(1);
    t.clock.advance(6_000); // past exp, well inside the 60 s cache period
    expect((await ask(short)).status).toBe(401);
  });

  it('CORS: allows the configured origin only', async () => {
    const preflight = await t.app.request('/app/instance', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://editor.wix.com',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://editor.wix.com');
    const other = await ask(wix.fake.issueFrontendToken('site-a'), { origin: 'https://evil.example' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
