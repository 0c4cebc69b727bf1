import { Hono, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { AppError } from '../errors.ts';
import type { InstallationQueries } from '../installations/queries.ts';
import { wixInstanceAuth, type InstanceEnv } from './instance-auth.ts';
import type { InstanceTokenChecker } from './token-info.ts';

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
  const routes = new Hono<InstanceEnv>();
  if (deps.corsOrigins.length > 0) {
    routes.use(
      '*',
      cors({ origin: [...deps.corsOrigins], allowHeaders: ['Authorization', 'Content-Type'], allowMethods: ['GET', 'OPTIONS'], maxAge: 600 }),
    );
  }
  if (deps.limit) routes.use('*', deps.limit);
  routes.use('*', wixInstanceAuth(deps.check));
  routes.get('/instance', async (c) => {
    const found = (await deps.queries.get(c.var.instance.instanceId))?.installation;
    if (!found) throw new AppError('not_found', 'This instance is not known to the registry');
    return c.json({ installation: found });
  });
  return routes;
}
