import { serve, type ServerType } from '@hono/node-server';
import type { HttpBindings } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

/** Wix access tokens live 4 hours (docs/wix-protocol.md §2). */
export const FAKE_TOKEN_TTL_SEC = 14_400;

export type FakeWixRoute = 'token' | 'instance' | 'bi-event' | 'token-info';

/** One injected failure, consumed by the next matching request. */
export type Fault =
  { kind: 'status'; status: number; retryAfterSec?: number; body?: unknown } | { kind: 'delay'; ms: number } | { kind: 'drop' };

interface IssuedToken {
  instanceId: string;
  clientId: string;
  issuedAtSec: number;
  expiresAtSec: number;
  /** App tokens come from client credentials; frontend tokens stand for fetchWithAuth()'s. */
  kind: 'app' | 'frontend';
  revoked: boolean;
}

export interface FakeWixOptions {
  appId: string;
  appSecret: string;
  /** Seconds clock, injectable for expiry tests. */
  nowSec?: () => number;
  tokenTtlSec?: number;
  /**
   * Where the fake keeps what happened on "Wix's side" (instances removed, sites changed) across
   * restarts of the sandbox; nothing is kept without it.
   */
  stateFile?: string;
}

/** What Get App Instance says of a site, as the sandbox lets a newcomer change it. */
export interface FakeSiteChange {
  siteName?: string;
  siteUrl?: string | null;
  appVersion?: string;
  isFree?: boolean;
}

interface FakeWixState {
  removed: string[];
  sites: Record<string, FakeSiteChange>;
}

export interface RecordedCall {
  route: FakeWixRoute;
  body: unknown;
  authorization: string | undefined;
  at: number;
}

/**
 * A local stand-in for the Wix endpoints the registry calls (docs/wix-protocol.md §4): client
 * credentials tokens, Get App Instance, Send BI Event and token-info; any other path answers
 * 404. It records every call and fails on demand. The sandbox (`npm start` without Wix
 * credentials) and the tests use this same fake.
 */
export function createFakeWix(options: FakeWixOptions) {
  const nowSec = options.nowSec ?? (() => Math.floor(Date.now() / 1000));
  const ttl = options.tokenTtlSec ?? FAKE_TOKEN_TTL_SEC;
  const tokens = new Map<string, IssuedToken>();
  const removed = new Set<string>();
  const sites = new Map<string, FakeSiteChange>();
  const faults = new Map<FakeWixRoute, Fault[]>();
  const calls: RecordedCall[] = [];
  const biEvents: { instanceId: string; eventName: string; at: number }[] = [];
  const app = new Hono<{ Bindings: HttpBindings }>();

  if (options.stateFile && existsSync(options.stateFile)) {
    try {
      const saved = JSON.parse(readFileSync(options.stateFile, 'utf8')) as Partial<FakeWixState>;
      for (const id of saved.removed ?? []) removed.add(id);
      for (const [id, change] of Object.entries(saved.sites ?? {})) sites.set(id, change);
    } catch {
      // A damaged state file: start from an empty Wix, as a fresh sandbox does.
    }
  }
  function save(): void {
    if (!options.stateFile) return;
    const state: FakeWixState = { removed: [...removed], sites: Object.fromEntries(sites) };
    writeFileSync(options.stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
  }
  function markRemoved(instanceId: string): void {
    removed.add(instanceId);
    save();
  }
  function markInstalled(instanceId: string): void {
    removed.delete(instanceId);
    save();
  }
  function changeSite(instanceId: string, change: FakeSiteChange): void {
    sites.set(instanceId, { ...sites.get(instanceId), ...change });
    save();
  }

  function issue(instanceId: string, kind: IssuedToken['kind'], clientId = options.appId, lifetimeSec = ttl): string {
    const token = `OauthNG.JWS.${randomBytes(18).toString('base64url')}`;
    const issuedAtSec = nowSec();
    tokens.set(token, { instanceId, clientId, issuedAtSec, expiresAtSec: issuedAtSec + lifetimeSec, kind, revoked: false });
    return token;
  }

  function activeToken(authorization: string | undefined): IssuedToken | null {
    if (!authorization) return null;
    const token = tokens.get(authorization.replace(/^Bearer\s+/i, ''));
    if (!token || token.revoked || token.expiresAtSec <= nowSec()) return null;
    return token;
  }

  /** Applies the next queued fault for the route; returns a response when the fault answers. */
  async function applyFault(c: Context<{ Bindings: HttpBindings }>, route: FakeWixRoute): Promise<Response | null> {
    const fault = faults.get(route)?.shift();
    if (!fault) return null;
    if (fault.kind === 'delay') {
      await new Promise((r) => setTimeout(r, fault.ms));
      return null;
    }
    if (fault.kind === 'drop') {
      c.env.incoming.socket.destroy();
      return new Response(null, { status: 500 });
    }
    if (fault.retryAfterSec !== undefined) c.header('Retry-After', String(fault.retryAfterSec));
    return c.json(fault.body ?? { message: `injected ${fault.status}` }, fault.status as 500);
  }

  async function record(c: Context<{ Bindings: HttpBindings }>, route: FakeWixRoute): Promise<unknown> {
    let body: unknown = undefined;
    if (c.req.method === 'POST') {
      const text = await c.req.text();
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
    }
    calls.push({ route, body, authorization: c.req.header('authorization'), at: Date.now() });
    return body;
  }

  const unauthorized = (c: Context) => c.json({ message: 'Unauthorized', details: { applicationError: { code: 'UNAUTHORIZED' } } }, 401);

  app.post('/oauth2/token', async (c) => {
    const body = (await record(c, 'token')) as Record<string, unknown> | undefined;
    const fault = await applyFault(c, 'token');
    if (fault) return fault;
    if (body?.grant_type !== 'client_credentials') return c.json({ message: 'unsupported grant_type' }, 400);
    if (body.client_id !== options.appId || body.client_secret !== options.appSecret) {
      return c.json({ message: 'invalid client credentials' }, 401);
    }
    const instanceId = body.instance_id;
    if (typeof instanceId !== 'string' || !instanceId) return c.json({ message: 'instance_id is required' }, 400);
    if (removed.has(instanceId)) {
      return c.json(
        { message: 'App is not installed on this instance', details: { applicationError: { code: 'APP_NOT_INSTALLED' } } },
        403,
      );
    }
    return c.json({ access_token: issue(instanceId, 'app'), token_type: 'Bearer', expires_in: ttl });
  });

  app.get('/apps/v1/instance', async (c) => {
    await record(c, 'instance');
    const fault = await applyFault(c, 'instance');
    if (fault) return fault;
    const token = activeToken(c.req.header('authorization'));
    if (!token) return unauthorized(c);
    return c.json(describeInstance(token.instanceId, options.appId, sites.get(token.instanceId)));
  });

  app.post('/apps/v1/bi-event', async (c) => {
    const body = (await record(c, 'bi-event')) as { eventName?: string } | undefined;
    const fault = await applyFault(c, 'bi-event');
    if (fault) return fault;
    const token = activeToken(c.req.header('authorization'));
    if (!token) return unauthorized(c);
    if (!body?.eventName) return c.json({ message: 'eventName is required' }, 400);
    biEvents.push({ instanceId: token.instanceId, eventName: body.eventName, at: Date.now() });
    return c.json({});
  });

  app.post('/oauth2/token-info', async (c) => {
    const body = (await record(c, 'token-info')) as { token?: string } | undefined;
    const fault = await applyFault(c, 'token-info');
    if (fault) return fault;
    const raw = body?.token;
    const info = typeof raw === 'string' ? tokens.get(raw.replace(/^Bearer\s+/i, '')) : undefined;
    if (!info || info.revoked || info.expiresAtSec <= nowSec()) return c.json({ active: false });
    return c.json({
      active: true,
      subjectType: info.kind === 'app' ? 'APP' : 'USER',
      subjectId: info.kind === 'app' ? info.clientId : `user-${info.instanceId.slice(0, 8)}`,
      exp: String(info.expiresAtSec),
      iat: String(info.issuedAtSec),
      clientId: info.clientId,
      siteId: siteIdFor(info.instanceId),
      instanceId: info.instanceId,
    });
  });

  // What happens on Wix's side without a webhook, for the sandbox (`simulate removed --silently`,
  // `simulate site-changed`) and the tests: not part of Wix's API, and only ever on 127.0.0.1.
  app.get('/_sandbox/instances', (c) => c.json({ removed: [...removed], sites: Object.fromEntries(sites) }));
  app.post('/_sandbox/instances/:instanceId/removed', (c) => {
    markRemoved(c.req.param('instanceId'));
    return c.json({ instanceId: c.req.param('instanceId'), status: 'removed' });
  });
  app.post('/_sandbox/instances/:instanceId/installed', (c) => {
    markInstalled(c.req.param('instanceId'));
    return c.json({ instanceId: c.req.param('instanceId'), status: 'installed' });
  });
  app.post('/_sandbox/instances/:instanceId/site', async (c) => {
    let change: FakeSiteChange;
    try {
      change = await c.req.json<FakeSiteChange>();
    } catch {
      return c.json({ message: 'expected a JSON object' }, 400);
    }
    changeSite(c.req.param('instanceId'), change);
    return c.json({ instanceId: c.req.param('instanceId'), site: sites.get(c.req.param('instanceId')) });
  });

  app.all('*', (c) => c.json({ message: 'not found' }, 404));

  return {
    app,
    /** Every request received, in order. */
    calls,
    callsTo: (route: FakeWixRoute) => calls.filter((call) => call.route === route),
    /** BI events Wix accepted. */
    biEvents,
    /** Queue failures for the next requests to a route. */
    fail(route: FakeWixRoute, ...queued: Fault[]) {
      faults.set(route, [...(faults.get(route) ?? []), ...queued]);
    },
    clearFaults: () => faults.clear(),
    /** Wix refuses tokens for an instance whose app was removed. */
    markRemoved,
    markInstalled,
    /** What Get App Instance says of the instance's site from now on. */
    changeSite,
    /** What a site's frontend holds after fetchWithAuth(): a token for this (or another) app. */
    issueFrontendToken: (instanceId: string, opts: { clientId?: string; lifetimeSec?: number } = {}) =>
      issue(instanceId, 'frontend', opts.clientId ?? options.appId, opts.lifetimeSec ?? ttl),
    revokeToken: (token: string) => {
      const t = tokens.get(token);
      if (t) t.revoked = true;
    },
    expireTokens: () => {
      for (const t of tokens.values()) t.expiresAtSec = nowSec() - 1;
    },
  };
}

export type FakeWix = ReturnType<typeof createFakeWix>;

function siteIdFor(instanceId: string): string {
  return `site-${instanceId}`;
}

/** A deterministic, realistic Get App Instance answer for any instance, with the sandbox's changes. */
function describeInstance(instanceId: string, appId: string, change: FakeSiteChange = {}) {
  const short = instanceId.slice(0, 8);
  const paid = change.isFree === undefined ? instanceId.charCodeAt(0) % 2 === 0 : !change.isFree;
  const url = change.siteUrl === undefined ? `https://sandbox-${short}.wixsite.com/site` : change.siteUrl;
  return {
    instance: {
      instanceId,
      appName: 'Sandbox App',
      appVersion: change.appVersion ?? '1.4.0',
      isFree: !paid,
      ...(paid
        ? {
            billing: {
              packageName: 'premium',
              billingCycle: 'YEARLY',
              timeStamp: new Date().toISOString(),
              expirationDate: null,
              autoRenewing: true,
            },
          }
        : {}),
      permissions: ['SCOPE.DC-APPS.MANAGE-APPS'],
      availablePlans: [],
      copiedFromTemplate: false,
      freeTrialAvailable: false,
    },
    site: {
      siteDisplayName: change.siteName ?? `Sandbox Site ${short}`,
      locale: 'en',
      paymentCurrency: 'USD',
      multilingual: { isMultiLingual: false, supportedLanguages: [] },
      ...(url === null ? {} : { url }),
      installedWixApps: [appId],
      ownerInfo: { email: `owner-${short}@example.com`, emailStatus: 'VERIFIED' },
      siteId: siteIdFor(instanceId),
    },
  };
}

/** Serves a Hono app on 127.0.0.1 (port 0 = any free port). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function listenLocal(app: { fetch: (req: Request, env?: any) => Response | Promise<Response> }, port = 0) {
  return new Promise<{ server: ServerType; url: string; close: () => Promise<void> }>((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      resolve({
        server,
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      });
    });
  });
}

export type { ServerType };
