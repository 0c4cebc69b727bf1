import { Writable } from 'node:stream';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.ts';
import { createClientResolver, limitKeyOf, parseTrustProxy, type TrustProxy } from '../../src/http/client-address.ts';
import { createFixedWindowCounter } from '../../src/http/rate-limit.ts';
import { createLogger } from '../../src/logger.ts';
import { apiKeyFingerprint } from '../../src/http/api-key-auth.ts';
import { createTestRegistry, fromClient, TEST_API_KEY, type TestRegistry } from '../helpers/registry.ts';

const WRONG = { authorization: 'Bearer wrong-key-0123456789abcdef' };
const GOOD = { authorization: `Bearer ${TEST_API_KEY}` };
const ORIGIN = 'http://localhost';

describe('failed-authentication limit (10 per client per minute)', () => {
  let t: TestRegistry;
  afterEach(() => t?.close());

  const attempt = async (headers: Record<string, string>, address: string, path = '/v1/stats') =>
    t.app.request(path, { headers }, fromClient(address));

  it('the 11th attempt of a client that failed 10 times is 429 with Retry-After, even with a good key, until the minute ends', async () => {
    t = await createTestRegistry();
    for (let i = 0; i < 10; i++) expect((await attempt(WRONG, '203.0.113.5')).status).toBe(401);
    const locked = await attempt(GOOD, '203.0.113.5');
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toBe('60');
    expect(await locked.json()).toMatchObject({ error: { code: 'too_many_requests', requestId: locked.headers.get('x-request-id') } });
    // Still locked later in the same minute (and attempts then do not extend it).
    t.clock.advance(45_000);
    const later = await attempt(WRONG, '203.0.113.5');
    expect(later.status).toBe(429);
    expect(later.headers.get('retry-after')).toBe('15');
    // The window passes: the good key works again.
    t.clock.advance(15_000);
    expect((await attempt(GOOD, '203.0.113.5')).status).toBe(200);
  });

  it('other clients are not affected', async () => {
    t = await createTestRegistry();
    for (let i = 0; i < 12; i++) await attempt(WRONG, '203.0.113.5');
    expect((await attempt(GOOD, '203.0.113.5')).status).toBe(429);
    expect((await attempt(GOOD, '203.0.113.6')).status).toBe(200);
    expect((await attempt(WRONG, '203.0.113.6')).status).toBe(401);
    // The metrics endpoint shares the count.
    expect((await attempt(GOOD, '203.0.113.5', '/metrics')).status).toBe(429);
    expect((await attempt(GOOD, '203.0.113.6', '/metrics')).status).toBe(200);
  });

  it('successes do not count, however many are in flight at once', async () => {
    t = await createTestRegistry();
    const answers = await Promise.all(Array.from({ length: 40 }, () => attempt(GOOD, '203.0.113.9')));
    expect(answers.map((r) => r.status)).toEqual(Array(40).fill(200));
    for (let i = 0; i < 9; i++) await attempt(WRONG, '203.0.113.9');
    expect((await attempt(GOOD, '203.0.113.9')).status).toBe(200);
  });

  it('failed dashboard sign-ins count toward the same limit', async () => {
    t = await createTestRegistry();
    const signIn = (apiKey: string) =>
      t.app.request(
        '/dashboard/sign-in',
        { method: 'POST', body: new URLSearchParams({ apiKey }), headers: { origin: ORIGIN } },
        fromClient('203.0.113.7'),
      );
    for (let i = 0; i < 5; i++) expect((await signIn('not-a-key-0123456789')).status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await attempt(WRONG, '203.0.113.7')).status).toBe(401);
    const locked = await signIn(TEST_API_KEY);
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toBe('60');
    expect(locked.headers.get('set-cookie')).toBeNull();
    expect(await locked.text()).toContain('Too many failed authentication attempts');
    t.clock.advance(60_000);
    expect((await signIn(TEST_API_KEY)).status).toBe(303);
  });

  it('an IPv6 client counts by its /64: rotating addresses in it does not reset the count', async () => {
    t = await createTestRegistry();
    for (let i = 1; i <= 10; i++) await attempt(WRONG, `2001:db8:1:2::${i.toString(16)}`);
    expect((await attempt(GOOD, '2001:db8:1:2:ffff::1')).status).toBe(429);
    expect((await attempt(GOOD, '2001:db8:1:3::1')).status).toBe(200);
    expect(limitKeyOf('2001:db8::1')).toBe('2001:0db8:0000:0000::/64');
    expect(limitKeyOf('198.51.100.1')).toBe('198.51.100.1');
  });

  it('proxy headers decide the client only when TRUST_PROXY says so', async () => {
    // Without TRUST_PROXY, X-Forwarded-For is the client's own words: ignored, the socket counts.
    t = await createTestRegistry();
    for (let i = 0; i < 10; i++)
      await t.app.request('/v1/stats', { headers: { ...WRONG, 'x-forwarded-for': `198.51.100.${i}` } }, fromClient('10.0.0.1'));
    expect((await t.app.request('/v1/stats', { headers: GOOD }, fromClient('10.0.0.1'))).status).toBe(429);
    await t.close();

    // Behind one trusted proxy: the address it appended, not what the client wrote before it.
    t = await createTestRegistry({ trustProxy: { mode: 'hops', hops: 1 } });
    const viaProxy = (headers: Record<string, string>, forwardedFor: string) =>
      t.app.request('/v1/stats', { headers: { ...headers, 'x-forwarded-for': forwardedFor } }, fromClient('10.0.0.1'));
    for (let i = 0; i < 10; i++) await viaProxy(WRONG, `1.2.3.${i}, 198.51.100.20`);
    expect((await viaProxy(GOOD, '198.51.100.20')).status).toBe(429);
    expect((await viaProxy(GOOD, '198.51.100.21')).status).toBe(200);
  });
});

describe('client address resolution', () => {
  const resolve = async (trust: TrustProxy, headers: Record<string, string>, socket = '10.0.0.1', url = 'http://registry.example/x') => {
    const app = new Hono();
    const resolver = createClientResolver(trust);
    app.get('/x', (c) => c.json({ address: resolver.address(c), https: resolver.isHttps(c) }));
    const res = await app.request(url, { headers }, fromClient(socket));
    return (await res.json()) as { address: string; https: boolean };
  };

  it.each([
    ['off', 'false', { 'x-forwarded-for': '198.51.100.1', 'x-forwarded-proto': 'https' }, { address: '10.0.0.1', https: false }],
    [
      'one hop',
      'true',
      { 'x-forwarded-for': '6.6.6.6, 198.51.100.1', 'x-forwarded-proto': 'https' },
      { address: '198.51.100.1', https: true },
    ],
    [
      'two hops',
      '2',
      { 'x-forwarded-for': '6.6.6.6, 198.51.100.1, 10.1.1.1', 'x-forwarded-proto': 'http, https' },
      { address: '198.51.100.1', https: false },
    ],
    ['two hops, short list', '2', { 'x-forwarded-for': '198.51.100.1' }, { address: '198.51.100.1', https: false }],
    [
      'header',
      'x-real-ip',
      { 'x-real-ip': '198.51.100.2', 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https' },
      { address: '198.51.100.2', https: true },
    ],
    ['not an address', 'true', { 'x-forwarded-for': 'hello' }, { address: '10.0.0.1', https: false }],
    ['no header', 'x-real-ip', {}, { address: '10.0.0.1', https: false }],
  ])('%s (TRUST_PROXY=%s)', async (_name, value, headers, expected) => {
    expect(await resolve(parseTrustProxy(value)!, headers)).toEqual(expected);
  });

  it('an IPv4 client on a dual-stack socket is its IPv4 address; https is the URL scheme without a proxy', async () => {
    expect(await resolve({ mode: 'off' }, {}, '::ffff:198.51.100.3', 'https://registry.example/x')).toEqual({
      address: '198.51.100.3',
      https: true,
    });
  });
});

describe('the fixed-window counter', () => {
  it('opens a window at the first hit, blocks at the limit until the window ends', () => {
    const clock = createManualClock(0);
    const counter = createFixedWindowCounter({ limit: 3, windowMs: 60_000, clock });
    counter.hit('a');
    clock.advance(30_000);
    counter.hit('a');
    counter.hit('a');
    expect(counter.blockedFor('a')).toBe(30);
    expect(counter.blockedFor('b')).toBe(0);
    clock.advance(29_001);
    expect(counter.blockedFor('a')).toBe(1);
    clock.advance(999);
    expect(counter.blockedFor('a')).toBe(0);
    counter.hit('a');
    expect(counter.blockedFor('a')).toBe(0);
  });

  it('holds at most maxClients windows, dropping expired ones first, then the oldest', () => {
    const clock = createManualClock(0);
    const counter = createFixedWindowCounter({ limit: 1, windowMs: 1_000, clock, maxClients: 100 });
    for (let i = 0; i < 100; i++) counter.hit(`old-${i}`);
    expect(counter.size).toBe(100);
    clock.advance(500);
    for (let i = 0; i < 10_000; i++) counter.hit(`new-${i}`);
    expect(counter.size).toBeLessThanOrEqual(100);
    // The newest clients are still counted.
    expect(counter.blockedFor('new-9999')).toBe(1);
    clock.advance(1_000);
    counter.hit('late');
    expect(counter.size).toBeLessThanOrEqual(100);
  });
});

describe('the request log line', () => {
  it('carries the client address and the API key fingerprint, never the key', async () => {
    const lines: string[] = [];
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const t = await createTestRegistry({ logger });
    try {
      expect(
        (await t.app.request('/v1/stats', { headers: { ...GOOD, 'user-agent': 'probe/1.0' } }, fromClient('198.51.100.44'))).status,
      ).toBe(200);
      expect((await t.app.request('/v1/stats', { headers: WRONG }, fromClient('198.51.100.45'))).status).toBe(401);
      const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((e) => e.msg === 'request');
      expect(entries).toContainEqual(
        expect.objectContaining({
          path: '/v1/stats',
          status: 200,
          client: '198.51.100.44',
          apiKeyId: apiKeyFingerprint(TEST_API_KEY),
          userAgent: 'probe/1.0',
        }),
      );
      expect(entries).toContainEqual(expect.objectContaining({ path: '/v1/stats', status: 401, client: '198.51.100.45' }));
      expect(lines.join('')).not.toContain(TEST_API_KEY);
    } finally {
      await t.close();
    }
  });
});
