import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestRegistry, TEST_API_KEY, type TestRegistry } from '../helpers/registry.ts';

const T0 = Math.floor(Date.UTC(2026, 9, 1) / 1000);

describe('/v1 authentication, health and the error envelope', () => {
  let t: TestRegistry;
  beforeEach(async () => {
    t = await createTestRegistry();
  });
  afterEach(() => t.close());

  it('GET /healthz and /readyz answer 200 on a migrated, open database', async () => {
    expect((await t.app.request('/healthz')).status).toBe(200);
    expect((await t.app.request('/readyz')).status).toBe(200);
  });

  it('GET /readyz answers 503 once the database is closed', async () => {
    await t.store.close();
    expect((await t.app.request('/readyz')).status).toBe(503);
    expect((await t.app.request('/healthz')).status).toBe(200);
  });

  it.each([
    ['no header', {}],
    ['wrong key', { authorization: 'Bearer not-the-key-0123456789' }],
    ['key without Bearer', { authorization: TEST_API_KEY }],
    ['a prefix of the key', { authorization: `Bearer ${TEST_API_KEY.slice(0, -1)}` }],
    ['basic auth', { authorization: `Basic ${Buffer.from(`x:${TEST_API_KEY}`).toString('base64')}` }],
  ])('refuses /v1 with %s: 401 in the error envelope', async (_name, headers) => {
    for (const path of ['/v1/installations', '/v1/installations/x', '/v1/stats']) {
      const res = await t.app.request(path, { headers });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: { code: string; requestId: string } };
      expect(body.error.code).toBe('unauthorized');
      expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
    }
  });

  it('with no API keys configured, /v1 refuses everyone', async () => {
    const { createRegistry } = await import('../../src/registry.ts');
    const { createLogger } = await import('../../src/logger.ts');
    const { createManualClock } = await import('../../src/clock.ts');
    const registry = createRegistry({
      wix: { appId: 'a', appSecret: 's', publicKeys: [(await import('node:crypto')).createPublicKey(t.signer.publicKeyPem)] },
      wixApiBaseUrl: 'http://127.0.0.1:9',
      apiKeys: [],
      store: t.store,
      logger: createLogger('silent'),
      clock: createManualClock(),
    });
    expect((await registry.app.request('/v1/installations', { headers: { authorization: 'Bearer anything-at-all-1234' } })).status).toBe(
      401,
    );
  });

  it('unknown routes get 404 in the envelope; the request id is echoed', async () => {
    const res = await t.app.request('/nope', { headers: { 'x-request-id': 'req-abc' } });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'No such route', requestId: 'req-abc' } });
  });

  it('GET /v1/installations/:id is 404 for an unknown instance', async () => {
    const res = await t.api('/v1/installations/unknown');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('a U+0000 in an id finds nothing, in a filter or a webhook it is malformed (PostgreSQL text cannot hold it): 404 or 400, never a 500', async () => {
    const iat = Math.floor(Date.now() / 1000) - 60;
    expect((await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId: 'nul-1', iat }))).status).toBe(200);
    expect((await t.api('/v1/installations/%00')).status).toBe(404);
    expect((await t.api('/v1/installations/nul-1%00')).status).toBe(404);
    // A search or plan filter with one is malformed: 400 naming it, on either engine.
    for (const [query, name] of [
      ['q=%00', 'q'],
      ['q=nul%00', 'q'],
      ['plan=%01', 'plan'],
    ]) {
      const res = await t.api(`/v1/installations?${query}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(`${name}: has a control character`);
    }
    // A webhook naming such an instance is malformed: refused, nothing stored.
    expect((await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId: 'nul\u0000-2', iat }))).status).toBe(400);
    expect(await (await t.api('/v1/installations?limit=500')).json()).toMatchObject({ items: [{ instanceId: 'nul-1' }] });
  });

  it('lists newest first with keyset pagination, and filters by status', async () => {
    for (let i = 0; i < 7; i++) {
      const res = await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId: `i${i}`, iat: T0 + i * 10 }));
      expect(res.status).toBe(200);
    }
    await t.deliver(await t.signer.sign({ eventType: 'AppRemoved', instanceId: 'i3', iat: T0 + 100 }));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.api(`/v1/installations?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: { instanceId: string }[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((i) => i.instanceId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['i6', 'i5', 'i4', 'i3', 'i2', 'i1', 'i0']);
    const removed = (await (await t.api('/v1/installations?status=removed')).json()) as { items: { instanceId: string }[] };
    expect(removed.items.map((i) => i.instanceId)).toEqual(['i3']);
    const stats = (await (await t.api('/v1/stats')).json()) as { installations: { active: number; removed: number } };
    expect(stats.installations).toEqual({ active: 6, removed: 1 });
  });

  it.each(['limit=0', 'limit=501', 'limit=abc', 'status=gone', 'cursor=%21%21notacursor', 'bogus=1'])(
    'GET /v1/installations?%s → 400',
    async (qs) => {
      const res = await t.api(`/v1/installations?${qs}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('bad_request');
    },
  );
});
