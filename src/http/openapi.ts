import { createRequire } from 'node:module';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Env } from 'hono';
import type { z } from 'zod';
import { AppError } from '../errors.ts';
import { describeInputIssues } from '../parse-input.ts';
import type { AppEnv } from './context.ts';
import { API_KEY, WIX_ACCESS_TOKEN } from './openapi-parts.ts';

/**
 * Issue 13: every operation of the HTTP API is defined once, next to its handler, with
 * `createRoute` and registered with `app.openapi(route, handler)`: the zod schemas the document
 * shows are those the request is validated with. This file holds what is not one route's: the
 * sub-apps' factory (validation failures become the one error envelope), the document's header
 * (info, tags, security schemes), and the check that every served route is in the document.
 * Served at GET /openapi.json; Swagger UI at GET /docs (src/http/docs.ts).
 */

export type OpenApiDocument = ReturnType<OpenAPIHono['getOpenAPI31Document']>;

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/**
 * A bad query or path parameter: 400 `bad_request` naming each one, as parseInput words it. A
 * parameter given more than once arrives as a list (zod-validator passes what it validated as
 * `data`); the message says so rather than "expected string, received array".
 */
function refuseInvalidInput(result: { success: true } | { success: false; error: z.ZodError; data?: unknown }): void {
  if (result.success) return;
  const input = (result.data ?? {}) as Record<string, unknown>;
  const repeated = Object.keys(input).filter((key) => Array.isArray(input[key]));
  if (repeated.length > 0) throw new AppError('bad_request', repeated.map((key) => `${key}: given more than once`).join('; '));
  throw new AppError('bad_request', describeInputIssues(result.error.issues));
}

/** A sub-app whose routes are defined with createRoute and registered with `openapi()`. */
export function createOpenApiRoutes<E extends Env = AppEnv>() {
  return new OpenAPIHono<E>({ defaultHook: refuseInvalidInput });
}

/**
 * The whole document, from the routes registered on `app` (sub-apps' routes are copied up when
 * mounted). It adds the shared components to `app`'s registry: called once per app (docs.ts keeps
 * the JSON).
 */
export function createOpenApiDocument(app: OpenAPIHono<AppEnv>): OpenApiDocument {
  const registry = app.openAPIRegistry;
  registry.registerComponent('securitySchemes', API_KEY, {
    type: 'http',
    scheme: 'bearer',
    description:
      'One of the keys in `REGISTRY_API_KEYS`: `Authorization: Bearer <key>`. Keys are compared in constant time. A key has every scope, or those its entry names ' +
      '(`<key>:read+tokens`): `read` for every GET, `tokens` for access tokens, `admin` for changes.',
  });
  registry.registerComponent('securitySchemes', WIX_ACCESS_TOKEN, {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description:
      "The site's Wix access token, as the app's frontend sends it with `fetchWithAuth()` (`Authorization: <token>`; `Bearer <token>` is accepted too). Checked with Wix's token-info.",
  });
  registry.registerComponent('headers', 'X-Request-Id', {
    description: "The request's id (an incoming `X-Request-Id` is kept); error bodies carry it as `error.requestId`.",
    schema: { type: 'string' },
  });

  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'wix-registry',
      version,
      description:
        'The installation registry for Wix apps. Every error, everywhere, is `{ "error": { "code", "message", "requestId" } }`; the request id is also the ' +
        '`X-Request-Id` response header (an incoming `X-Request-Id` is kept). A 5xx body says nothing about internals. Times are ISO-8601 in UTC.',
      license: { name: 'MIT', url: 'https://opensource.org/license/mit' },
    },
    tags: [
      { name: 'Webhooks', description: "Wix's app-instance webhooks, verified with the app's public key." },
      {
        name: 'Installations',
        description: 'Needs `Authorization: Bearer <key>` from `REGISTRY_API_KEYS`, with the `read` scope (access tokens: `tokens`).',
      },
      { name: 'Stats', description: 'Needs `Authorization: Bearer <key>` from `REGISTRY_API_KEYS`, with the `read` scope.' },
      { name: 'Metrics', description: 'Needs `Authorization: Bearer <key>` from `REGISTRY_API_KEYS`, with the `read` scope.' },
      { name: 'Admin', description: 'Needs `Authorization: Bearer <key>` from `REGISTRY_API_KEYS`, with the `admin` scope.' },
      { name: 'App frontend', description: "Called by the app's own frontend with the site's Wix access token." },
      { name: 'Health', description: 'For load balancers and orchestrators.' },
    ],
  });
}

/** Served but deliberately not in the document: the document itself, Swagger UI, and the dashboard's HTML pages. */
const UNDOCUMENTED = [/^\/openapi\.json$/, /^\/docs(\/|$)/, /^\/dashboard(\/|$)/];

interface RouteLike {
  method: string;
  path: string;
}

/** `/v1/installations/:instanceId` → `/v1/installations/{instanceId}`. */
const openApiPath = (honoPath: string) => honoPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * The routes `app` serves that its document does not describe (`METHOD /path`): a route added
 * with a plain `get()` / `post()`, or on a sub-app that is not an OpenAPIHono, or hidden. Middleware
 * (method ALL) is not a route.
 */
export function listUndocumentedRoutes(app: { routes: readonly RouteLike[]; openAPIRegistry: OpenAPIHono['openAPIRegistry'] }): string[] {
  const documented = new Set(
    app.openAPIRegistry.definitions.flatMap((definition) =>
      definition.type === 'route' ? [`${definition.route.method.toUpperCase()} ${definition.route.path}`] : [],
    ),
  );
  const served = app.routes
    .filter((route) => route.method !== 'ALL' && !UNDOCUMENTED.some((pattern) => pattern.test(route.path)))
    .map((route) => `${route.method} ${openApiPath(route.path)}`);
  return [...new Set(served)].filter((route) => !documented.has(route));
}

/** Throws naming every served route the document would leave out: a route without a definition is a build error. */
export function assertRoutesDocumented(app: Parameters<typeof listUndocumentedRoutes>[0]): void {
  const missing = listUndocumentedRoutes(app);
  if (missing.length === 0) return;
  throw new Error(`Routes without an OpenAPI definition (define them with createRoute and app.openapi):\n  ${missing.join('\n  ')}`);
}
