/** @jsxImportSource hono/jsx */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { html } from 'hono/html';
import { HTTPException } from 'hono/http-exception';
import type { Child } from 'hono/jsx';
import { secureHeaders } from 'hono/secure-headers';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ChangeRecord } from '../changes/model.ts';
import { toChange } from '../changes/serialize.ts';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import { isLoopbackHost } from '../http/client-address.ts';
import type { AppEnv } from '../http/context.ts';
import { incompleteRequest } from '../http/errors.ts';
import { checkInstanceIdParam } from '../http/instance-id.ts';
import {
  AUTH_FAILURE_LIMIT,
  AUTH_FAILURE_WINDOW_MS,
  createFixedWindowCounter,
  limitFailedAuthentication,
  type FixedWindowCounter,
} from '../http/rate-limit.ts';
import { noScopeNeeded, requireScope } from '../http/scopes.ts';
import { DAILY_STATS_DEFAULT_DAYS, DAY_MS } from '../installations/daily-stats.ts';
import type { InstallationQueries } from '../installations/queries.ts';
import { installationListQuerySchema } from '../installations/query-schemas.ts';
import type { OutboxJob, OutboxJobStatus } from '../outbox/model.ts';
import type { PushEndpointStatus } from '../outbox/push.ts';
import { parseInput } from '../parse-input.ts';
import type { SignedInView } from './layout.tsx';
import { ChangesPage } from './pages/changes.tsx';
import { InstallationPage } from './pages/installation.tsx';
import { InstallationsPage } from './pages/installations.tsx';
import { MessagePage } from './pages/message.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { SESSION_COOKIE, SESSION_TTL_MS, type DashboardSession, type DashboardSessions } from './sessions.ts';
import { DASHBOARD_CSS_HASH } from './styles.ts';

export interface DashboardDeps {
  queries: InstallationQueries;
  outbox: {
    list(filter: { instanceId?: string }): Promise<OutboxJob[]>;
    counts(): Promise<Record<OutboxJobStatus, number>>;
  };
  /**
   * Server-side sessions (sessions.ts): signing in takes one of the /v1 keys (REGISTRY_API_KEYS)
   * with the `read` scope. The registry builds them over the store, and /v1 revokes them too.
   */
  sessions: DashboardSessions;
  changes: {
    /** Newest first, optionally of one instance, before a position (older pages). */
    latest(filter: { instanceId?: string | undefined; before?: number | undefined; limit: number }): Promise<ChangeRecord[]>;
    pushEndpoints(): Promise<PushEndpointStatus[]>;
  };
  clock: Clock;
  /** Failed sign-ins count here: createApp passes the counter /v1 uses, so both share one limit per client. */
  authFailures?: FixedWindowCounter;
  /** Whether the browser reached us over https (createApp sets it from TRUST_PROXY); default: the URL's scheme. */
  isHttps?: (c: Context) => boolean;
}

interface DashboardEnv {
  Variables: AppEnv['Variables'] & {
    session: DashboardSession;
    view: SignedInView;
  };
}

/** Rows per page, on the overview and the installations page alike (so the overview's "Next page" cursor fits). */
export const DASHBOARD_PAGE_SIZE = 25;
/** Sign-in and sign-out forms are a few hundred bytes. */
const FORM_MAX_BYTES = 8 * 1024;
const SIGN_IN_PATH = '/dashboard/sign-in';

const COOKIE_OPTIONS = {
  path: '/dashboard',
  httpOnly: true,
  secure: true,
  sameSite: 'Strict',
} as const;

/** Query parameters the list understands, in the order links are built with. */
const LIST_PARAMS = ['q', 'status', 'plan', 'installedFrom', 'installedTo', 'removedFrom', 'removedTo', 'sort', 'order', 'limit'] as const;

/**
 * Where to go after signing in: a dashboard path only, so the parameter cannot send anyone to
 * another origin (an open redirect) or back to the sign-in form.
 */
function safeNext(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2048) return undefined;
  if (!/^\/dashboard(?:[/?]|$)/.test(value) || /[\s\\\u0000-\u001f]/.test(value)) return undefined;
  if (value.startsWith('/dashboard/sign-')) return undefined;
  return value;
}

/** The query string's non-empty parameters: an empty form field means "no filter", not an empty search. */
function nonEmptyQuery(c: Context): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(c.req.query())) {
    if (value.trim() !== '') values[key] = value.trim();
  }
  return values;
}

function listHref(values: Record<string, string>, cursor: string | null): string {
  const params = new URLSearchParams();
  for (const key of LIST_PARAMS) if (values[key]) params.set(key, values[key]);
  if (cursor) params.set('cursor', cursor);
  const query = params.toString();
  return `/dashboard/installations${query ? `?${query}` : ''}`;
}

/**
 * The developers' dashboard, server-rendered with hono/jsx: readable without JavaScript (every
 * page is a GET with a form or links), one inline stylesheet, and the /v1 API keys to sign in.
 */
export function createDashboardRoutes(deps: DashboardDeps) {
  const { sessions } = deps;
  const routes = new Hono<DashboardEnv>();

  const render = (c: Context, page: Child, status: ContentfulStatusCode = 200) => c.html(html`<!doctype html>${page}`, status);
  const view = (session: DashboardSession): SignedInView => ({
    keyId: session.keyId,
    csrfToken: session.csrfToken,
  });
  const currentSession = (c: Context) => sessions.read(getCookie(c, SESSION_COOKIE));
  const isHttps = deps.isHttps ?? ((c: Context) => new URL(c.req.url).protocol === 'https:');
  const limitSignIn = limitFailedAuthentication<DashboardEnv>(
    deps.authFailures ?? createFixedWindowCounter({ limit: AUTH_FAILURE_LIMIT, windowMs: AUTH_FAILURE_WINDOW_MS, clock: deps.clock }),
  );
  /**
   * The session cookie is Secure: over plain http a browser drops it and sign-in would loop back
   * to this form. Browsers keep it on loopback hosts, so local use works without https.
   */
  const cookieWouldBeDropped = (c: Context) => !isHttps(c) && !isLoopbackHost(c);
  const httpsRequired = (c: Context, status: ContentfulStatusCode) =>
    render(
      c,
      <MessagePage
        session={null}
        title="HTTPS required"
        message="The dashboard keeps you signed in with a Secure cookie, which browsers only keep over https (or on localhost), so signing in over plain http cannot work. Open the dashboard at its https:// address; behind a TLS-terminating proxy, set TRUST_PROXY so the registry believes its X-Forwarded-Proto."
      />,
      status,
    );

  // Pages without scripts: the CSP refuses every script, frame, plugin and foreign form target;
  // the one stylesheet is allowed by its hash. frame-ancestors 'none' is what browsers obey over
  // the app-wide X-Frame-Options: SAMEORIGIN; the app-wide secureHeaders() adds the rest.
  routes.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        styleSrc: [DASHBOARD_CSS_HASH],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      permissionsPolicy: {
        camera: [],
        microphone: [],
        geolocation: [],
        payment: [],
      },
    }),
  );
  routes.use(async (c, next) => {
    await next();
    // Installation data is private: no shared or browser cache keeps a copy.
    c.header('Cache-Control', 'no-store');
  });
  routes.use(bodyLimit({ maxSize: FORM_MAX_BYTES }));
  // Every POST must come from this origin (Origin or Sec-Fetch-Site), on top of SameSite=Strict
  // and, for sign-out, the session's CSRF token.
  routes.use(csrf());

  routes.get('/sign-in', noScopeNeeded(), async (c) => {
    if (cookieWouldBeDropped(c)) return httpsRequired(c, 200);
    if (await currentSession(c)) return c.redirect(safeNext(c.req.query('next')) ?? '/dashboard', 303);
    return render(c, <SignInPage next={safeNext(c.req.query('next'))} />);
  });

  routes.post('/sign-in', noScopeNeeded(), limitSignIn, async (c) => {
    if (cookieWouldBeDropped(c)) return httpsRequired(c, 403);
    const form = await c.req.parseBody();
    const presented = typeof form.apiKey === 'string' ? form.apiKey.trim() : '';
    const result = await sessions.signIn(presented);
    const next = safeNext(form.next);
    if (result.outcome === 'refused') {
      c.set('logFields', { ...c.get('logFields'), dashboardSignIn: 'refused' });
      // One message for every failure: nothing says whether the key was close, or which part was wrong.
      return render(c, <SignInPage error="That API key was not accepted." next={next} />, 401);
    }
    if (result.outcome === 'no_read_scope') {
      c.set('logFields', { ...c.get('logFields'), dashboardSignIn: 'no read scope', apiKeyId: result.keyId });
      return render(c, <SignInPage error="That API key does not have the read scope the dashboard needs." next={next} />, 403);
    }
    const { session } = result;
    c.set('logFields', {
      ...c.get('logFields'),
      dashboardSignIn: 'ok',
      apiKeyId: session.keyId,
    });
    setCookie(c, SESSION_COOKIE, session.value, {
      ...COOKIE_OPTIONS,
      maxAge: SESSION_TTL_MS / 1000,
    });
    return c.redirect(next ?? '/dashboard', 303);
  });

  // Everything below needs a session.
  routes.use(async (c, next) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    const session = await sessions.read(cookie);
    if (!session) {
      if (cookie !== undefined) deleteCookie(c, SESSION_COOKIE, COOKIE_OPTIONS);
      const url = new URL(c.req.url);
      const back = c.req.method === 'GET' ? safeNext(`${url.pathname}${url.search}`) : undefined;
      return c.redirect(back && back !== '/dashboard' ? `${SIGN_IN_PATH}?next=${encodeURIComponent(back)}` : SIGN_IN_PATH, 303);
    }
    c.set('session', session);
    c.set('view', view(session));
    c.set('apiKeyId', session.keyId);
    c.set('apiKeyScopes', session.scopes);
    await next();
  });

  // Signing out changes only the caller's own session: allowed whatever the key's scopes. Actions
  // that change the registry's state would declare requireScope('admin') here.
  routes.post('/sign-out', noScopeNeeded(), async (c) => {
    const form = await c.req.parseBody();
    if (!sessions.checkCsrfToken(c.get('session'), form.csrf)) {
      throw new AppError('forbidden', 'This sign-out form did not come from a page of this dashboard. Sign out from the dashboard itself.');
    }
    // Ended on the server, not only in this browser: a copy of the cookie opens nothing either.
    await sessions.signOut(c.get('session'));
    deleteCookie(c, SESSION_COOKIE, COOKIE_OPTIONS);
    return c.redirect(SIGN_IN_PATH, 303);
  });

  routes.get('/', requireScope('read'), async (c) => {
    const to = Math.floor(deps.clock.now() / DAY_MS) * DAY_MS + DAY_MS; // the window ends with today (UTC)
    const [page, counts, outbox, daily] = await Promise.all([
      deps.queries.list({ limit: DASHBOARD_PAGE_SIZE }),
      deps.queries.counts(),
      deps.outbox.counts(),
      deps.queries.daily.forRange({ from: to - DAILY_STATS_DEFAULT_DAYS * DAY_MS, to }),
    ]);
    const data = {
      counts,
      outbox,
      daily,
      page,
      nextHref: page.nextCursor ? listHref({}, page.nextCursor) : null,
    };
    return render(c, <OverviewPage session={c.get('view')} data={data} />);
  });

  routes.get('/installations', requireScope('read'), async (c) => {
    const values = nonEmptyQuery(c);
    let page: Awaited<ReturnType<InstallationQueries['list']>> | null = null;
    let error: string | null = null;
    try {
      // The HTTP API's own schema: the same parameters mean the same thing here and on /v1.
      const query = parseInput(installationListQuerySchema, {
        limit: String(DASHBOARD_PAGE_SIZE),
        ...values,
      });
      page = await deps.queries.list(query);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'bad_request') throw err;
      error = err.message;
    }
    const data = {
      values,
      error,
      page,
      nextHref: page?.nextCursor ? listHref(values, page.nextCursor) : null,
      firstHref: values.cursor && page ? listHref(values, null) : null,
    };
    return render(c, <InstallationsPage session={c.get('view')} data={data} />, error ? 400 : 200);
  });

  routes.get('/installations/:instanceId', requireScope('read'), checkInstanceIdParam(), async (c) => {
    const instanceId = c.req.param('instanceId');
    const [detail, jobs] = await Promise.all([deps.queries.get(instanceId), deps.outbox.list({ instanceId })]);
    if (!detail) throw new AppError('not_found', 'The registry has no installation with that instance id.');
    return render(c, <InstallationPage session={c.get('view')} detail={detail} jobs={jobs} />);
  });

  routes.get('/changes', requireScope('read'), async (c) => {
    const instance = (c.req.query('instance') ?? '').trim();
    if (instance.length > 200) throw new AppError('bad_request', 'An instance id is at most 200 characters.');
    const beforeText = c.req.query('before');
    const before = beforeText === undefined || beforeText === '' ? undefined : Number(beforeText);
    if (before !== undefined && !(Number.isSafeInteger(before) && before > 0))
      throw new AppError('bad_request', 'That page of changes does not exist.');
    const [records, endpoints] = await Promise.all([
      deps.changes.latest({ instanceId: instance || undefined, before, limit: DASHBOARD_PAGE_SIZE }),
      deps.changes.pushEndpoints(),
    ]);
    const href = (older: number | null) => {
      const params = new URLSearchParams();
      if (instance) params.set('instance', instance);
      if (older !== null) params.set('before', String(older));
      const query = params.toString();
      return `/dashboard/changes${query ? `?${query}` : ''}`;
    };
    const data = {
      instance,
      items: records.map(toChange),
      olderHref: records.length === DASHBOARD_PAGE_SIZE ? href(records.at(-1)!.position) : null,
      newestHref: before !== undefined ? href(null) : null,
      endpoints,
    };
    return render(c, <ChangesPage session={c.get('view')} data={data} />);
  });

  routes.all('*', noScopeNeeded(), (c) => {
    if (c.req.path === '/dashboard/') return c.redirect('/dashboard', 301);
    throw new AppError('not_found', 'There is no dashboard page at this address.');
  });

  // Errors on dashboard pages are pages, not the API's JSON envelope.
  routes.onError(async (err, c) => {
    const requestId = c.get('requestId');
    const session = c.get('session') ?? (await currentSession(c).catch(() => null));
    const signedIn = session ? view(session) : null;
    let status: ContentfulStatusCode;
    let title: string;
    let message: string;
    const incomplete = incompleteRequest(c);
    if (err instanceof AppError && err.status < 500) {
      status = err.status;
      title =
        err.code === 'not_found'
          ? 'Not found'
          : err.code === 'forbidden'
            ? 'Refused'
            : err.code === 'too_many_requests'
              ? 'Too many attempts'
              : 'Cannot do that';
      message = err.message;
    } else if (incomplete) {
      // The browser went away (or the request timed out) mid-form: its problem, not a 500.
      status = 408;
      title = 'Cannot do that';
      message = 'The request did not fully arrive.';
      c.set('logFields', { ...c.get('logFields'), clientAborted: true, incomplete });
    } else if (err instanceof HTTPException && err.status === 403) {
      status = 403;
      title = 'Refused';
      message = 'This form was sent from another site. Use the forms on the dashboard itself.';
    } else if (err instanceof HTTPException && err.status < 500) {
      status = err.status;
      title = 'Cannot do that';
      message = err.status === 413 ? 'The form sent was too large.' : 'The request could not be handled.';
    } else {
      status = 500;
      title = 'Something went wrong';
      message = 'The page could not be shown. The registry log has the details under this request id.';
      c.get('logger')?.error({ requestId, err }, 'dashboard page failed');
    }
    return render(
      c,
      <MessagePage session={signedIn} title={title} message={message} requestId={status >= 500 ? requestId : undefined} />,
      status,
    );
  });

  return routes;
}
