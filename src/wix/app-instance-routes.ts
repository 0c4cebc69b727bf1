import { createRoute } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { AppError } from '../errors.ts';
import { appInstanceSchema } from '../http/api-schemas.ts';
import { createOpenApiRoutes } from '../http/openapi.ts';
import { errorResponses, ok, WIX_ACCESS_TOKEN } from '../http/openapi-parts.ts';
import type { InstallationQueries } from '../installations/queries.ts';
import { wixInstanceAuth, type InstanceEnv } from './instance-auth.ts';
import type { InstanceTokenChecker } from './token-info.ts';

const getAppInstance = createRoute({
  method: 'get',
  path: '/instance',
  operationId: 'getAppInstance',
  tags: ['App frontend'],
  summary: "The installation behind the frontend's Wix access token",
  description:
    "For the app's own frontend (site widget, settings panel, dashboard page). The token is checked with Wix's token-info: it must be active, issued to this app " +
    "(`clientId` = `WIX_APP_ID`) and name an instance. Token-info answers are cached for 60 s at most and never past the token's `exp`. CORS allows `CORS_ORIGINS`.",
  security: [{ [WIX_ACCESS_TOKEN]: [] }],
  responses: {
    200: ok('The installation (with its status if removed).', appInstanceSchema),
    ...errorResponses({
      401: '`unauthorized`: no token, or Wix says it is not active, not issued to this app, or names no instance.',
      404: '`not_found`: the registry does not know the instance.',
      429: '`too_many_requests`: this client sent more requests this minute than `APP_INSTANCE_RATE_LIMIT` allows (120 by default); `Retry-After` says when to try again.',
      502: '`bad_gateway`: Wix could not be asked.',
    }),
  },
});

/**
 * GET /app/instance: the installation behind the frontend's Wix access token. `limit` (a per-client
 * request limit) runs after CORS, so a browser can read its 429, and before the token is checked
 * with Wix, so a flood costs Wix nothing.
 */
export function createAppInstanceRoutes(deps: {
  check: InstanceTokenChecker;
  queries: InstallationQueries;
  corsOrigins: readonly string[];
  limit?: MiddlewareHandler<InstanceEnv>;
}) {
  const routes = createOpenApiRoutes<InstanceEnv>();
  if (deps.corsOrigins.length > 0) {
    routes.use(
      '*',
      cors({
        origin: [...deps.corsOrigins],
        allowHeaders: ['Authorization', 'Content-Type'],
        allowMethods: ['GET', 'OPTIONS'],
        maxAge: 600,
      }),
    );
  }
  if (deps.limit) routes.use('*', deps.limit);
  routes.use('*', wixInstanceAuth(deps.check));
  routes.openapi(getAppInstance, async (c) => {
    const found = (await deps.queries.get(c.var.instance.instanceId))?.installation;
    if (!found) throw new AppError('not_found', 'This instance is not known to the registry');
    return c.json({ installation: found }, 200);
  });
  return routes;
}
