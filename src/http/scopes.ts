import type { Context, MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { COMPOSED_HANDLER } from 'hono/utils/constants';
import { AppError } from '../errors.ts';
import type { AppEnv } from './context.ts';

/**
 * Least privilege for API keys (issue 12). A key in REGISTRY_API_KEYS is `<key>` (every scope) or
 * `<key>:<scope>+<scope>`. Each route declares the scope it needs with requireScope() next to its
 * definition; listRouteAccess() reads those declarations back from the app's own route table, so
 * createApp() refuses to build an app with an undeclared route under /v1, /metrics or /dashboard,
 * and the scope-matrix test walks every declared route with every scope.
 */

export const API_SCOPES = ['read', 'tokens', 'admin'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** A key limited to some scopes. A bare string in a key list has every scope. */
export interface ScopedApiKey {
  key: string;
  scopes: readonly ApiScope[];
}
export type ApiKeyEntry = string | ScopedApiKey;

export const apiKeyOf = (entry: ApiKeyEntry): string => (typeof entry === 'string' ? entry : entry.key);
export const scopesOf = (entry: ApiKeyEntry): readonly ApiScope[] => (typeof entry === 'string' ? API_SCOPES : entry.scopes);

const isScope = (value: string): value is ApiScope => (API_SCOPES as readonly string[]).includes(value);

/**
 * One REGISTRY_API_KEYS entry. The scopes follow the last `:`, so a key that itself contains `:`
 * must be written with its scopes. The problem text never repeats any part of the entry: what
 * follows a `:` may be the tail of a secret.
 */
export function parseApiKeyEntry(entry: string): { ok: true; entry: ApiKeyEntry } | { ok: false; problem: string } {
  const colon = entry.lastIndexOf(':');
  if (colon === -1) return { ok: true, entry };
  const key = entry.slice(0, colon);
  const names = entry.slice(colon + 1).split('+');
  if (names.some((name) => !isScope(name))) {
    return { ok: false, problem: `has an unknown scope after its last ':' (scopes are ${API_SCOPES.join(', ')}, joined by +)` };
  }
  return { ok: true, entry: { key, scopes: API_SCOPES.filter((scope) => names.includes(scope)) } };
}

/** What a route needs: an API key scope, or (only on a few dashboard pages) no scope at all. */
export type RouteAccess = ApiScope | 'none';

const DECLARED = new WeakMap<object, RouteAccess>();

/**
 * The route needs `scope`: 403 in the error envelope for a key without it. Placed first in the
 * route's handlers, after authentication (which sets `apiKeyScopes`); with no authenticated
 * key at all it refuses too (fail closed).
 */
export function requireScope<E extends AppEnv = AppEnv>(scope: ApiScope): MiddlewareHandler<E> {
  const middleware = createMiddleware<E>(async (c, next) => {
    const scopes = (c as unknown as Context<AppEnv>).get('apiKeyScopes');
    if (!scopes?.includes(scope)) throw new AppError('forbidden', `This API key does not have the "${scope}" scope this route needs`);
    await next();
  });
  DECLARED.set(middleware, scope);
  return middleware;
}

/** Declares, on purpose, a route under a protected prefix that needs no scope (the sign-in form, sign-out). */
export function noScopeNeeded<E extends AppEnv = AppEnv>(): MiddlewareHandler<E> {
  const middleware: MiddlewareHandler<E> = async (_c, next) => {
    await next();
  };
  DECLARED.set(middleware, 'none');
  return middleware;
}

/** Prefixes where every route must declare its access; /v1 and /metrics must name a scope. */
export const SCOPED_PREFIXES = ['/v1/', '/metrics', '/dashboard'] as const;

export interface RouteAccessEntry {
  method: string;
  path: string;
  /** null: the route declares nothing. */
  access: RouteAccess | null;
}

interface RouteLike {
  method: string;
  path: string;
  handler: unknown;
}

/**
 * The app's routes with what each declares, from the app's own route table (`app.routes`).
 * Middleware added with `use()` (method ALL, a function of (c, next)) is not a route. A sub-app
 * with its own onError has its handlers wrapped by Hono; the wrapper points at the original.
 */
export function listRouteAccess(app: { routes: readonly RouteLike[] }): RouteAccessEntry[] {
  const entries = new Map<string, RouteAccessEntry>();
  for (const route of app.routes) {
    const wrapped = route.handler as Record<string, unknown> & ((...args: unknown[]) => unknown);
    const handler = (wrapped[COMPOSED_HANDLER] as typeof wrapped | undefined) ?? wrapped;
    const declared = DECLARED.get(handler);
    if (declared === undefined && route.method === 'ALL' && handler.length >= 2) continue;
    const key = `${route.method} ${route.path}`;
    const entry = entries.get(key) ?? { method: route.method, path: route.path, access: null };
    if (declared !== undefined) entry.access = declared;
    entries.set(key, entry);
  }
  return [...entries.values()];
}

const underPrefix = (path: string, prefix: string) =>
  path === prefix.replace(/\/$/, '') || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);

/** Throws naming every route under a scoped prefix that declares no access (or only 'none' under /v1 or /metrics). */
export function assertRoutesDeclareAccess(app: { routes: readonly RouteLike[] }): void {
  const problems = listRouteAccess(app).flatMap((route) => {
    const prefix = SCOPED_PREFIXES.find((p) => underPrefix(route.path, p));
    if (!prefix) return [];
    if (route.access === null) return [`${route.method} ${route.path} declares no scope (add requireScope(...) before its handler)`];
    if (route.access === 'none' && prefix !== '/dashboard') return [`${route.method} ${route.path} must need a scope`];
    return [];
  });
  if (problems.length > 0) throw new Error(`Routes without a declared scope:\n  ${problems.join('\n  ')}`);
}

/** True when `path` is under one of the scoped prefixes. */
export const isScopedPath = (path: string) => SCOPED_PREFIXES.some((p) => underPrefix(path, p));
