import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/dashboard/sessions.ts';
import { createTestRegistry, TEST_API_KEY, type TestRegistry } from '../helpers/registry.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 1, 12, 0);
const ORIGIN = 'http://localhost';

describe('the dashboard (through the real app)', () => {
  let t: TestRegistry;

  const sign = (eventType: string, instanceId: string, at: number, data: Record<string, unknown> = {}) =>
    t.signer.sign({
      eventType,
      instanceId,
      iat: Math.floor(at / 1000),
      data: { appId: 'app-1', ...data },
      accountInfo: { siteId: `site-${instanceId}`, accountId: 'acc-1' },
    });
  const deliver = async (eventType: string, instanceId: string, at: number, data: Record<string, unknown> = {}) =>
    expect((await t.deliver(await sign(eventType, instanceId, at, data))).status).toBe(200);

  const get = (path: string, cookie?: string) => t.app.request(path, { headers: cookie ? { cookie } : {} });
  const post = (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    t.app.request(path, { method: 'POST', body: new URLSearchParams(form), headers: { origin: ORIGIN, ...headers } });

  async function signIn(): Promise<string> {
    const res = await post('/dashboard/sign-in', { apiKey: TEST_API_KEY });
    expect(res.status).toBe(303);
    const setCookie = res.headers.get('set-cookie') ?? '';
    return setCookie.split(';')[0]!;
  }

  /** The hidden CSRF field of a signed-in page. */
  const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const statOf = (html: string, id: string) =>
    new RegExp(`data-stat="${id}"[^>]*>.*?<span class="stat-value">(?:<a[^>]*>)?([\\d,]+)`, 's').exec(html)?.[1];

  beforeEach(async () => {
    t = await createTestRegistry({ now: NOW });
    await deliver('AppInstalled', 'inst-alpha', NOW - 3 * DAY);
    await deliver('PaidPlanPurchased', 'inst-alpha', NOW - 2 * DAY, { vendorProductId: 'premium', cycle: 'YEARLY' });
    await deliver('AppInstalled', 'inst-bravo', NOW - 10 * DAY);
    await deliver('AppRemoved', 'inst-bravo', NOW - 5 * DAY);
    await deliver('AppInstalled', 'inst-charlie', NOW - 60_000);
    // Wix refused one job for good: it shows as dead, with its error.
    const job = (await t.store.outbox.list({ instanceId: 'inst-alpha' })).find((j) => j.kind === 'finished_configuration')!;
    await t.store.write({
      kind: 'killJob',
      jobId: job.id,
      error: 'send APP_FINISHED_CONFIGURATION: Wix answered 403 (App is not installed)',
      now: NOW,
    });
  });
  afterEach(() => t.close());

  describe('signing in', () => {
    it('sends every page to the sign-in form (303) when signed out', async () => {
      for (const path of [
        '/dashboard',
        '/dashboard/installations?status=active',
        '/dashboard/installations/inst-alpha',
        '/dashboard/nowhere',
      ]) {
        const res = await get(path);
        expect(res.status, path).toBe(303);
        expect(res.headers.get('location'), path).toMatch(/^\/dashboard\/sign-in/);
      }
      expect((await get('/dashboard/installations?status=active')).headers.get('location')).toBe(
        `/dashboard/sign-in?next=${encodeURIComponent('/dashboard/installations?status=active')}`,
      );
    });

    it('shows a labelled password form, without caching, behind a strict CSP', async () => {
      const res = await get('/dashboard/sign-in');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await res.text();
      expect(html).toMatch(/^<!doctype html>/);
      expect(html).toContain('<meta name="viewport"');
      expect(html).toContain('<label for="apiKey">API key</label>');
      expect(html).toMatch(/<input id="apiKey" name="apiKey" type="password"/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("form-action 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    });

    it('refuses a wrong key with 401 and the form again, saying nothing about why, and sets no cookie', async () => {
      for (const apiKey of ['wrong-key-0123456789abcdef', TEST_API_KEY.slice(0, -1), `${TEST_API_KEY}x`, '']) {
        const res = await post('/dashboard/sign-in', { apiKey });
        expect(res.status).toBe(401);
        expect(res.headers.get('set-cookie')).toBeNull();
        const html = await res.text();
        expect(html).toContain('That API key was not accepted.');
        expect(html).toContain('type="password"');
        if (apiKey) expect(html).not.toContain(apiKey);
      }
    });

    it('accepts a configured key: a random, signed, HttpOnly, Secure, SameSite=Strict cookie for /dashboard, 8 hours', async () => {
      const res = await post('/dashboard/sign-in', { apiKey: TEST_API_KEY });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/dashboard');
      const cookie = res.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=v2\\.[\\w-]{43}\\.[\\w-]{43};`));
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('Secure');
      expect(cookie).toContain('SameSite=Strict');
      expect(cookie).toContain('Path=/dashboard');
      expect(cookie).toContain('Max-Age=28800');
      expect(cookie).not.toContain(TEST_API_KEY);
    });

    it('goes back to the page asked for, and never to another origin', async () => {
      const to = async (next: string) => (await post('/dashboard/sign-in', { apiKey: TEST_API_KEY, next })).headers.get('location');
      expect(await to('/dashboard/installations?status=removed')).toBe('/dashboard/installations?status=removed');
      for (const evil of [
        'https://evil.example/',
        '//evil.example/dashboard',
        '/\\evil.example',
        '/dashboardx',
        '/v1/stats',
        '/dashboard/sign-out',
      ]) {
        expect(await to(evil), evil).toBe('/dashboard');
      }
    });

    it('refuses a sign-in form posted from another origin (403)', async () => {
      const res = await post('/dashboard/sign-in', { apiKey: TEST_API_KEY }, { origin: 'https://evil.example' });
      expect(res.status).toBe(403);
      expect(res.headers.get('set-cookie')).toBeNull();
    });
  });

  describe('sessions', () => {
    it('refuses a tampered, forged or expired cookie and clears it', async () => {
      const cookie = await signIn();
      const other = await signIn();
      const [name, value] = cookie.split('=') as [string, string];
      const [v, id, signature] = value.split('.') as [string, string, string];
      const [, otherId] = other.split('=')[1]!.split('.') as [string, string, string];
      const flip = (text: string) => `${text.slice(0, -1)}${text.endsWith('A') ? 'B' : 'A'}`;
      const forged = [
        `${v}.${id}.${flip(signature)}`,
        `${v}.${flip(id)}.${signature}`,
        `${v}.${otherId}.${signature}`,
        `v1.${id}.${signature}`,
        `${v}.${id}`,
        TEST_API_KEY,
        '',
      ];
      for (const bad of forged) {
        const res = await get('/dashboard', `${name}=${bad}`);
        expect(res.status, bad).toBe(303);
        expect(res.headers.get('location')).toBe('/dashboard/sign-in');
      }
      const refused = await get('/dashboard', `${name}=${forged[0]}`);
      expect(refused.headers.get('set-cookie')).toMatch(new RegExp(`^${SESSION_COOKIE}=; Max-Age=0;.*Path=/dashboard`));

      expect((await get('/dashboard', cookie)).status).toBe(200);
      expect((await get('/dashboard', other)).status).toBe(200);
      t.clock.advance(8 * 60 * 60 * 1000);
      expect((await get('/dashboard', cookie)).status).toBe(303);
    });
  });

  describe('pages', () => {
    it('the overview: counts at a glance, the 30-day chart with its data table, and the installations', async () => {
      const cookie = await signIn();
      const res = await get('/dashboard', cookie);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(statOf(html, 'active')).toBe('2');
      expect(statOf(html, 'removed')).toBe('1');
      expect(statOf(html, 'installs-30d')).toBe('3');
      expect(statOf(html, 'removals-30d')).toBe('1');
      expect(statOf(html, 'outbox-pending')).toBe('3');
      expect(statOf(html, 'outbox-dead')).toBe('1');

      const svg = /<svg[^>]*role="img"[\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
      expect(svg).toMatch(/<title id="daily-title">Installs and removals per day<\/title>/);
      expect(svg).toContain('3 installs and 1 removal from 2026-10-03 to 2026-11-01');
      expect(svg.match(/class="bar bar-installs"/g)).toHaveLength(3);
      expect(svg.match(/class="bar bar-removals"/g)).toHaveLength(1);
      expect(svg).toMatch(/data-day="2026-10-27" data-kind="removals"/);
      expect(html).toMatch(/<th scope="row">2026-10-22<\/th><td>1<\/td><td>0<\/td>/); // the hidden data table

      expect(html).toContain('<input id="overview-search" type="search" name="q"');
      for (const id of ['inst-alpha', 'inst-bravo', 'inst-charlie']) expect(html).toContain(`href="/dashboard/installations/${id}"`);
      // The top bar's sign-out form carries a CSRF token; the page holds neither the API key nor
      // the HttpOnly session cookie (a page that did would hand it to anything that reads the page).
      expect(csrfOf(html)).toMatch(/^[\w-]{43}$/);
      expect(html).not.toContain(TEST_API_KEY);
      expect(html).not.toContain(cookie.slice(cookie.indexOf('=') + 1));
    });

    it('the installations page: search, filters, sort and paging by cursor', async () => {
      const cookie = await signIn();
      const rows = (html: string) => [...html.matchAll(/<tr data-instance="([^"]+)"/g)].map((m) => m[1]);

      expect(rows(await (await get('/dashboard/installations', cookie)).text())).toEqual(['inst-charlie', 'inst-alpha', 'inst-bravo']);
      expect(rows(await (await get('/dashboard/installations?q=BRAV', cookie)).text())).toEqual(['inst-bravo']);
      expect(rows(await (await get('/dashboard/installations?status=active&order=asc', cookie)).text())).toEqual([
        'inst-alpha',
        'inst-charlie',
      ]);
      expect(rows(await (await get('/dashboard/installations?plan=premium', cookie)).text())).toEqual(['inst-alpha']);
      expect(rows(await (await get('/dashboard/installations?installedFrom=2026-10-25&installedTo=2026-10-30', cookie)).text())).toEqual([
        'inst-alpha',
      ]);
      // Empty form fields are no filter at all.
      expect(
        rows(await (await get('/dashboard/installations?q=&status=&plan=&installedFrom=&installedTo=&sort=&order=', cookie)).text()),
      ).toHaveLength(3);
      // The form shows what was asked.
      const filtered = await (await get('/dashboard/installations?q=brav&status=removed', cookie)).text();
      expect(filtered).toContain('<input id="q" type="search" name="q" value="brav"');
      expect(filtered).toContain('<option value="removed" selected="">Removed</option>');

      await deliver('AppInstalled', 'inst-delta', NOW - 20 * DAY);
      const first = await (await get('/dashboard/installations?limit=2&status=active', cookie)).text();
      expect(rows(first)).toEqual(['inst-charlie', 'inst-alpha']);
      const next = /href="(\/dashboard\/installations\?[^"]*cursor=[^"]+)" rel="next"/.exec(first)?.[1]?.replaceAll('&amp;', '&');
      expect(next).toContain('status=active');
      const second = await (await get(next!, cookie)).text();
      expect(rows(second)).toEqual(['inst-delta']);
      expect(second).toContain('← First page');
    });

    it('a bad parameter is a 400 page naming it, with the form still there', async () => {
      const cookie = await signIn();
      for (const query of [
        'installedFrom=yesterday',
        'status=gone',
        'sort=name',
        'cursor=not-a-cursor',
        'installedFrom=2026-10-10&installedTo=2026-10-01',
        'colour=blue',
        'limit=0',
      ]) {
        const res = await get(`/dashboard/installations?${query}`, cookie);
        expect(res.status, query).toBe(400);
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        const html = await res.text();
        expect(html).toContain('role="alert"');
        expect(html).toContain('These parameters cannot be used.');
        expect(html).toContain('<form method="get" action="/dashboard/installations"');
      }
      const html = await (await get('/dashboard/installations?installedFrom=yesterday', cookie)).text();
      expect(html).toContain('installedFrom: must be an ISO-8601 date');
    });

    it('one installation: status, dates, plan, site, its event history and its outbox jobs', async () => {
      const cookie = await signIn();
      const res = await get('/dashboard/installations/inst-alpha', cookie);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('<span class="badge badge-active">active</span>');
      expect(html).toContain(`datetime="${new Date(NOW - 3 * DAY).toISOString()}"`);
      expect(html).toContain('premium');
      expect(html).toContain('YEARLY');
      expect(html).toContain('site-inst-alpha');
      const history = /data-testid="history"[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
      expect([...history.matchAll(/<th scope="row" class="mono">(\w+)<\/th>/g)].map((m) => m[1])).toEqual([
        'AppInstalled',
        'PaidPlanPurchased',
      ]);
      expect(history.match(/badge-applied/g)).toHaveLength(2);
      const jobs = /data-testid="outbox-jobs"[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
      expect(jobs).toContain('APP_FINISHED_CONFIGURATION');
      expect(jobs).toContain('<span class="badge badge-dead">dead</span>');
      expect(jobs).toContain('Wix answered 403 (App is not installed)');
      expect(jobs).toContain('<span class="badge badge-pending">pending</span>');

      const removed = await (await get('/dashboard/installations/inst-bravo', cookie)).text();
      expect(removed).toContain('<span class="badge badge-removed">removed</span>');
      expect(removed.match(/badge-cancelled/g)).toHaveLength(2);
    });

    it('an unknown installation or page is a 404 page', async () => {
      const cookie = await signIn();
      for (const path of ['/dashboard/installations/nobody', '/dashboard/nowhere']) {
        const res = await get(path, cookie);
        expect(res.status).toBe(404);
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(await res.text()).toContain('<h1>Not found</h1>');
      }
    });

    it('escapes what comes from webhooks', async () => {
      const cookie = await signIn();
      await deliver('AppInstalled', 'inst-xss', NOW - 1000);
      await deliver('PaidPlanPurchased', 'inst-xss', NOW - 500, { vendorProductId: '<img src=x onerror=alert(1)>' });
      for (const path of ['/dashboard', '/dashboard/installations/inst-xss']) {
        const html = await (await get(path, cookie)).text();
        expect(html).not.toContain('<img src=x');
        expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
      }
    });
  });

  describe('signing out', () => {
    it('needs the CSRF token of the session', async () => {
      const cookie = await signIn();
      const csrf = csrfOf(await (await get('/dashboard', cookie)).text());
      expect(csrf).toMatch(/^[\w-]{43}$/);

      for (const form of [{}, { csrf: 'A'.repeat(43) }, { csrf: csrf.slice(1) }] as Record<string, string>[]) {
        const res = await post('/dashboard/sign-out', form, { cookie });
        expect(res.status).toBe(403);
        expect(res.headers.get('set-cookie')).toBeNull();
      }
      // A token from another session does not do either.
      t.clock.advance(1000);
      const otherCsrf = csrfOf(await (await get('/dashboard', await signIn())).text());
      expect((await post('/dashboard/sign-out', { csrf: otherCsrf }, { cookie })).status).toBe(403);
      expect((await get('/dashboard', cookie)).status).toBe(200);
    });

    it('is refused from another origin, even with the token', async () => {
      const cookie = await signIn();
      const csrf = csrfOf(await (await get('/dashboard', cookie)).text());
      for (const headers of [{ origin: 'https://evil.example' }, { origin: 'null' }]) {
        const res = await post('/dashboard/sign-out', { csrf }, { cookie, ...headers });
        expect(res.status).toBe(403);
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      }
      const noOrigin = await t.app.request('/dashboard/sign-out', {
        method: 'POST',
        body: new URLSearchParams({ csrf }),
        headers: { cookie },
      });
      expect(noOrigin.status).toBe(403);
      expect((await get('/dashboard', cookie)).status).toBe(200);
    });

    it('with the token: clears the cookie and goes to the sign-in page', async () => {
      const cookie = await signIn();
      const csrf = csrfOf(await (await get('/dashboard', cookie)).text());
      const res = await post('/dashboard/sign-out', { csrf }, { cookie });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/dashboard/sign-in');
      const cleared = res.headers.get('set-cookie') ?? '';
      expect(cleared).toMatch(new RegExp(`^${SESSION_COOKIE}=; Max-Age=0;`));
      expect(cleared).toContain('Path=/dashboard');
    });
  });

  it('leaves the JSON API as it was: /v1 still wants a bearer key, not the dashboard cookie', async () => {
    const cookie = await signIn();
    expect((await t.app.request('/v1/stats', { headers: { cookie } })).status).toBe(401);
  });
});

describe('the dashboard over plain http (its cookie is Secure)', () => {
  let t: TestRegistry;
  afterEach(() => t.close());

  const signInAt = (origin: string, headers: Record<string, string> = {}) =>
    t.app.request(`${origin}/dashboard/sign-in`, {
      method: 'POST',
      body: new URLSearchParams({ apiKey: TEST_API_KEY }),
      headers: { origin, ...headers },
    });
  const formShown = (html: string) => html.includes('<form method="post" action="/dashboard/sign-in">');

  it('off loopback, the sign-in page says HTTPS is required instead of a form that would loop; a sign-in there sets no cookie', async () => {
    t = await createTestRegistry();
    const page = await t.app.request('http://registry.example/dashboard/sign-in');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('HTTPS required');
    expect(formShown(html)).toBe(false);
    const refused = await signInAt('http://registry.example');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('set-cookie')).toBeNull();
    expect(await refused.text()).toContain('HTTPS required');
    // Signed-out pages still send to the sign-in page, which now explains rather than loops.
    expect((await t.app.request('http://registry.example/dashboard')).headers.get('location')).toBe('/dashboard/sign-in');
  });

  it.each(['https://registry.example', 'http://localhost', 'http://127.0.0.1:3000', 'http://[::1]:3000'])(
    'works at %s (https, or http on loopback)',
    async (origin) => {
      t = await createTestRegistry();
      expect(formShown(await (await t.app.request(`${origin}/dashboard/sign-in`)).text())).toBe(true);
      const res = await signInAt(origin);
      expect(res.status).toBe(303);
      expect(res.headers.get('set-cookie')).toMatch(/; Secure/);
    },
  );

  it('believes X-Forwarded-Proto only when TRUST_PROXY says a proxy sets it', async () => {
    t = await createTestRegistry();
    expect((await signInAt('http://registry.example', { 'x-forwarded-proto': 'https' })).status).toBe(403);
    await t.close();
    t = await createTestRegistry({ trustProxy: { mode: 'hops', hops: 1 } });
    expect(
      formShown(
        await (await t.app.request('http://registry.example/dashboard/sign-in', { headers: { 'x-forwarded-proto': 'https' } })).text(),
      ),
    ).toBe(true);
    expect((await signInAt('http://registry.example', { 'x-forwarded-proto': 'https' })).status).toBe(303);
    expect((await signInAt('http://registry.example', { 'x-forwarded-proto': 'http' })).status).toBe(403);
  });

  it('an instance id longer than 200 characters is a 400 page', async () => {
    t = await createTestRegistry();
    const cookie = ((await signInAt('http://localhost')).headers.get('set-cookie') ?? '').split(';')[0]!;
    const res = await t.app.request(`/dashboard/installations/${'x'.repeat(201)}`, { headers: { cookie } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('longer than 200 characters');
    expect((await t.app.request(`/dashboard/installations/${'x'.repeat(200)}`, { headers: { cookie } })).status).toBe(404);
  });
});
