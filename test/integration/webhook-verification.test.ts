import { createHmac, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.ts';
import { openStore } from '../../src/db/open-store.ts';
import { createLogger } from '../../src/logger.ts';
import { createRegistry } from '../../src/registry.ts';
import { createTestSigner, rawJwt } from '../helpers/sign.ts';
import { createTestRegistry, rowCounts, type TestRegistry } from '../helpers/registry.ts';
import { createTestDatabase } from '../helpers/engine.ts';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/wix-signed-app-installed.json', import.meta.url), 'utf8')) as {
  publicKeyPem: string;
  appId: string;
  jwt: string;
  claims: { iat: number; exp: number };
};

const NOW_SEC = Math.floor(Date.UTC(2026, 10, 1) / 1000);
const installed = (instanceId = 'inst-1') => ({
  eventType: 'AppInstalled',
  instanceId,
  data: { appId: 'app', originInstanceId: '' },
  iat: NOW_SEC - 5,
});

describe('the real Wix-signed webhook (shared/fixtures)', () => {
  async function registryWithFixtureKey(nowMs: number) {
    const database = await createTestDatabase();
    const store = await openStore(database.url, { threads: true, sqlite: { readers: 1 } });
    const registry = createRegistry({
      wix: { appId: fixture.appId, appSecret: 's', publicKeys: [createPublicKey(fixture.publicKeyPem)] },
      wixApiBaseUrl: 'http://127.0.0.1:9',
      apiKeys: [],
      store,
      logger: createLogger('silent'),
      clock: createManualClock(nowMs),
    });
    return { registry, db: database.db, cleanup: async () => (await store.close(), await database.drop()) };
  }
  const post = (app: { request: (p: string, i: RequestInit) => Response | Promise<Response> }, body: string) =>
    app.request('/webhooks/wix', { method: 'POST', body, headers: { 'content-type': 'text/plain' } });

  it('is accepted with the clock inside its iat..exp window, and recorded', async () => {
    const { registry, db, cleanup } = await registryWithFixtureKey((fixture.claims.iat + 3600) * 1000);
    try {
      const res = await post(registry.app, fixture.jwt);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'accepted' });
      const found = await registry.queries.get('3bbcabc7-ebb7-4fc8-8829-13ea0e142123');
      expect(found?.installation).toMatchObject({
        status: 'active',
        appId: fixture.appId,
        originInstanceId: '07864c16-3a6f-4dd2-9973-028705762b2c',
        installedAt: new Date(fixture.claims.iat * 1000).toISOString(),
      });
      // Wix resends the identical JWT: acknowledged, not stored twice.
      const again = await post(registry.app, fixture.jwt);
      expect(await again.json()).toEqual({ status: 'duplicate' });
      expect(await rowCounts(db)).toEqual({ deliveries: 1, installations: 1 });
    } finally {
      await cleanup();
    }
  });

  it('is refused once expired (clock past exp + tolerance), writing nothing', async () => {
    const { registry, db, cleanup } = await registryWithFixtureKey((fixture.claims.exp + 120) * 1000);
    try {
      const res = await post(registry.app, fixture.jwt);
      expect(res.status).toBe(401);
      expect(await rowCounts(db)).toEqual({ deliveries: 0, installations: 0 });
    } finally {
      await cleanup();
    }
  });
});

describe('POST /webhooks/wix refuses anything that does not verify', () => {
  let t: TestRegistry;
  beforeEach(async () => {
    t = await createTestRegistry({ now: NOW_SEC * 1000 });
  });
  afterEach(() => t.close());

  async function expectRefused(body: string, status: number, code: string) {
    const res = await t.deliver(body);
    expect(res.status).toBe(status);
    const json = (await res.json()) as { error: { code: string; message: string; requestId: string } };
    expect(json.error.code).toBe(code);
    expect(json.error.requestId).toBeTruthy();
    expect(await rowCounts(t.db)).toEqual({ deliveries: 0, installations: 0 });
  }

  it('accepts a correctly signed delivery (the control case)', async () => {
    const res = await t.deliver(await t.signer.sign(installed()));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'accepted' });
    expect(await rowCounts(t.db)).toEqual({ deliveries: 1, installations: 1 });
  });

  it('refuses a token signed with another key', async () => {
    const other = await createTestSigner();
    await expectRefused(await other.sign(installed()), 401, 'invalid_signature');
  });

  it('refuses RS512 signed with the right key (the SDK would accept it)', async () => {
    await expectRefused(await t.signer.sign(installed(), { alg: 'RS512' }), 401, 'invalid_signature');
  });

  it('refuses alg none', async () => {
    const token = await t.signer.sign(installed());
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    await expectRefused(rawJwt({ alg: 'none' }, claims), 401, 'invalid_signature');
    await expectRefused(rawJwt({ alg: 'none' }, claims).slice(0, -1), 401, 'invalid_signature');
  });

  it('refuses HS256 keyed with the public PEM (algorithm confusion)', async () => {
    const token = await t.signer.sign(installed());
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    const unsigned = rawJwt({ alg: 'HS256', typ: 'JWT' }, claims).slice(0, -1);
    const mac = createHmac('sha256', t.signer.publicKeyPem).update(unsigned).digest('base64url');
    await expectRefused(`${unsigned}.${mac}`, 401, 'invalid_signature');
  });

  it('refuses altered claims under the original signature', async () => {
    const token = await t.signer.sign(installed('victim'));
    const [h, c, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString());
    claims.data = claims.data.replace('victim', 'attacker');
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    await expectRefused(forged, 401, 'invalid_signature');
  });

  it('refuses an expired token and a not-yet-valid one', async () => {
    await expectRefused(await t.signer.sign({ ...installed(), iat: NOW_SEC - 7200 }, { exp: NOW_SEC - 3600 }), 401, 'invalid_signature');
    await expectRefused(await t.signer.sign(installed(), { nbf: NOW_SEC + 3600 }), 401, 'invalid_signature');
  });

  it('accepts exp/nbf within the clock tolerance', async () => {
    const res = await t.deliver(await t.signer.sign(installed(), { exp: NOW_SEC - 10 }));
    expect(res.status).toBe(200);
  });

  it('refuses a body that is not a JWT, and an empty body', async () => {
    await expectRefused('hello world', 401, 'invalid_signature');
    await expectRefused('{"data":"x"}', 401, 'invalid_signature');
    await expectRefused('a.b', 401, 'invalid_signature');
    await expectRefused('', 401, 'invalid_signature');
  });

  it('refuses a body over 64 KiB with 413, before verifying', async () => {
    await expectRefused('x'.repeat(64 * 1024 + 1), 413, 'payload_too_large');
    const signedButHuge = await t.signer.sign({ ...installed(), data: { appId: 'a', pad: 'p'.repeat(70_000) } });
    await expectRefused(signedButHuge, 413, 'payload_too_large');
  });

  describe('a verified token with a malformed envelope gets 400', () => {
    async function signRawData(data: unknown) {
      const { SignJWT } = await import('jose');
      return new SignJWT({ data: data as string }).setProtectedHeader({ alg: 'RS256' }).setIssuedAt(NOW_SEC).sign(t.signer.privateKey);
    }
    it.each([
      ['data claim missing', undefined],
      ['data claim not a string', { eventType: 'AppInstalled' }],
      ['layer A not JSON', 'not json'],
      ['eventType missing', JSON.stringify({ instanceId: 'i', data: '{}' })],
      ['instanceId missing', JSON.stringify({ eventType: 'AppInstalled', data: '{}' })],
      ['instanceId empty', JSON.stringify({ eventType: 'AppInstalled', instanceId: '', data: '{}' })],
      ['inner data not a JSON string', JSON.stringify({ eventType: 'AppInstalled', instanceId: 'i', data: 'nope{' })],
      ['inner data an object, not a string', JSON.stringify({ eventType: 'AppInstalled', instanceId: 'i', data: { appId: 'a' } })],
      ['inner data a JSON array', JSON.stringify({ eventType: 'AppInstalled', instanceId: 'i', data: '[1,2]' })],
      ['identity not a JSON string', JSON.stringify({ eventType: 'AppInstalled', instanceId: 'i', data: '{}', identity: '{bad' })],
    ])('%s', async (_name, data) => {
      await expectRefused(await signRawData(data), 400, 'malformed_envelope');
    });

    it('iat missing', async () => {
      const { SignJWT } = await import('jose');
      const token = await new SignJWT({ data: JSON.stringify({ eventType: 'AppInstalled', instanceId: 'i', data: '{}' }) })
        .setProtectedHeader({ alg: 'RS256' })
        .sign(t.signer.privateKey);
      await expectRefused(token, 400, 'malformed_envelope');
    });
  });
});
