import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_SCOPES,
  assertRoutesDeclareAccess,
  listRouteAccess,
  noScopeNeeded,
  requireScope,
  type ApiScope,
} from '../../src/http/scopes.ts';
import { createTestRegistry, type TestRegistry } from '../helpers/registry.ts';

/**
 * Least privilege, route by route. The table comes from the app itself (listRouteAccess reads the
 * scope each route declares with requireScope), so a route added tomorrow is in this matrix
 * without anyone editing this file, and one that declares nothing stops createApp.
 */

const ALL_KEY = 'matrix-every-scope-key-0123456789';
const KEY_OF: Record<ApiScope, string> = {
  read: 'matrix-read-only-key-0123456789',
  tokens: 'matrix-tokens-only-key-0123456789',
  admin: 'matrix-admin-only-key-0123456789',
};
const ORIGIN = 'http://localhost';
/** Routes under /dashboard that need no scope, on purpose. A new one has to be added here, knowingly. */
const UNSCOPED_DASHBOARD_ROUTES = ['GET /dashboard/sign-in', 'POST /dashboard/sign-in', 'POST /dashboard/sign-out', 'ALL /dashboard/*'];

const urlOf = (path: string) => path.replace(/:[A-Za-z0-9_]+/g, 'matrix-instance');

describe('API key scopes: every route × every scope', () => {
  let scoped: TestRegistry;
  const scopedKeys = [ALL_KEY, ...API_SCOPES.map((scope) => ({ key: KEY_OF[scope], scopes: [scope] }))];
  /** Dashboard session cookies, one per key, signed in while each key had every scope. */
  const cookies = new Map<string, string>();

  /**
   * Opens a dashboard session for every key: a key without `read` cannot sign in, so each signs in
   * while REGISTRY_API_KEYS gives it every scope, and the registry restarts with the scoped keys.
   * Each cookie is then a session whose key has since lost scopes (they apply at once).
   */
  async function openSessions(): Promise<void> {
    await scoped.restart({ apiKeys: [ALL_KEY, ...Object.values(KEY_OF)] });
    for (const key of [ALL_KEY, ...Object.values(KEY_OF)]) {
      const res = await scoped.app.request('/dashboard/sign-in', {
        method: 'POST',
        body: new URLSearchParams({ apiKey: key }),
        headers: { origin: ORIGIN },
      });
      expect(res.status).toBe(303);
      cookies.set(key, (res.headers.get('set-cookie') ?? '').split(';')[0]!);
    }
    await scoped.restart({ apiKeys: scopedKeys });
  }

  beforeAll(async () => {
    scoped = await createTestRegistry({ apiKeys: scopedKeys });
  });
  afterAll(async () => {
    await scoped?.close();
  });

  const table = () => listRouteAccess(scoped.app);

  it('reads a declaration for every route under /v1, /metrics and /dashboard', () => {
    const routes = table();
    const underV1 = routes.filter((r) => r.path.startsWith('/v1/'));
    expect(underV1.length).toBeGreaterThanOrEqual(6);
    for (const route of underV1) expect(API_SCOPES, `${route.method} ${route.path}`).toContain(route.access);
    expect(routes).toContainEqual({ method: 'GET', path: '/metrics', access: 'read' });
    expect(routes).toContainEqual({ method: 'POST', path: '/v1/installations/:instanceId/access-token', access: 'tokens' });
    const dashboard = routes.filter((r) => r.path.startsWith('/dashboard'));
    expect(dashboard.filter((r) => r.access === null)).toEqual([]);
    expect(
      dashboard
        .filter((r) => r.access === 'none')
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    ).toEqual([...UNSCOPED_DASHBOARD_ROUTES].sort());
    expect(dashboard.filter((r) => r.access === 'read').length).toBeGreaterThanOrEqual(3);
  });

  it('GET routes under /v1 need read (the audit: admin), the access-token route tokens, the rest admin (the contract)', () => {
    const expected = (method: string, path: string) =>
      path.startsWith('/v1/audit/') ? 'admin' : method === 'GET' ? 'read' : path.endsWith('/access-token') ? 'tokens' : 'admin';
    for (const route of table().filter((r) => r.path.startsWith('/v1/'))) {
      expect(route.access, `${route.method} ${route.path}`).toBe(expected(route.method, route.path));
    }
    expect(table()).toContainEqual({ method: 'GET', path: '/v1/audit/token-handouts', access: 'admin' });
    expect(table()).toContainEqual({ method: 'DELETE', path: '/v1/dashboard-sessions', access: 'admin' });
  });

  it('with a key holding only one scope, a route answers 403 exactly when it needs another', async () => {
    await openSessions();
    const checked: string[] = [];
    // Dashboard pages first: DELETE /v1/dashboard-sessions, allowed, ends the sessions they use.
    const routes = [...table()].sort((a, b) => Number(b.path.startsWith('/dashboard')) - Number(a.path.startsWith('/dashboard')));
    for (const route of routes) {
      if (route.access === null || route.access === 'none' || route.method === 'ALL') continue;
      const url = urlOf(route.path);
      for (const scope of API_SCOPES) {
        const key = KEY_OF[scope];
        const dashboard = route.path.startsWith('/dashboard');
        const res = await scoped.app.request(url, {
          method: route.method,
          headers: dashboard ? { cookie: cookies.get(key)!, origin: ORIGIN } : { authorization: `Bearer ${key}` },
        });
        const label = `${route.method} ${route.path} with a ${scope}-only key`;
        if (scope === route.access) expect([401, 403], label).not.toContain(res.status);
        else {
          expect(res.status, label).toBe(403);
          if (!dashboard) expect(((await res.json()) as { error: { code: string } }).error.code, label).toBe('forbidden');
        }
        checked.push(label);
      }
      // A bare key keeps every scope.
      const dashboard = route.path.startsWith('/dashboard');
      const all = await scoped.app.request(url, {
        method: route.method,
        headers: dashboard ? { cookie: cookies.get(ALL_KEY)!, origin: ORIGIN } : { authorization: `Bearer ${ALL_KEY}` },
      });
      expect([401, 403], `${route.method} ${route.path} with a bare key`).not.toContain(all.status);
    }
    expect(checked.length).toBeGreaterThanOrEqual(3 * 10);
  });

  it('the dashboard refuses to sign in a key without read (403, no cookie); sign-out stays open to any session', async () => {
    await openSessions();
    const refused = await scoped.app.request('/dashboard/sign-in', {
      method: 'POST',
      body: new URLSearchParams({ apiKey: KEY_OF.tokens }),
      headers: { origin: ORIGIN },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('set-cookie')).toBeNull();
    expect(await refused.text()).toContain('does not have the read scope');

    const cookie = cookies.get(KEY_OF.tokens)!;
    const page = await scoped.app.request('/dashboard', { headers: { cookie } });
    expect(page.status).toBe(403);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    expect(csrf).not.toBe('');
    const out = await scoped.app.request('/dashboard/sign-out', {
      method: 'POST',
      body: new URLSearchParams({ csrf }),
      headers: { cookie, origin: ORIGIN },
    });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/dashboard/sign-in');
    expect((await scoped.app.request('/dashboard', { headers: { cookie } })).status).toBe(303);
  });
});

describe('routes must declare their scope', () => {
  const handler = () => new Response('ok');

  it('an undeclared route under /v1, /metrics or /dashboard is a build error naming it', () => {
    const app = new Hono();
    app.use('/v1/*', async (_c, next) => next());
    app.get('/v1/declared', requireScope('read'), handler);
    app.post('/v1/outbox/retry', handler);
    app.get('/metrics', handler);
    app.get('/healthz', handler);
    expect(() => assertRoutesDeclareAccess(app)).toThrow(
      /POST \/v1\/outbox\/retry declares no scope[\s\S]*GET \/metrics declares no scope/,
    );
    expect(() => assertRoutesDeclareAccess(app)).not.toThrow(/healthz|\/v1\/declared/);
  });

  it('"no scope needed" is allowed on dashboard pages only', () => {
    const app = new Hono();
    app.get('/v1/open', noScopeNeeded(), handler);
    app.get('/dashboard/sign-in', noScopeNeeded(), handler);
    expect(() => assertRoutesDeclareAccess(app)).toThrow(/GET \/v1\/open must need a scope/);
    expect(() => assertRoutesDeclareAccess(app)).not.toThrow(/dashboard/);
  });

  it('reads declarations through sub-apps, including ones with their own onError', () => {
    const sub = new Hono();
    sub.get('/x', requireScope('admin'), handler);
    sub.onError(() => new Response('error', { status: 500 }));
    const app = new Hono();
    app.route('/v1/sub', sub);
    expect(listRouteAccess(app)).toEqual([{ method: 'GET', path: '/v1/sub/x', access: 'admin' }]);
    expect(() => assertRoutesDeclareAccess(app)).not.toThrow();
  });
});
