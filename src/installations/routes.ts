import { Hono } from 'hono';
import { AppError } from '../errors.ts';
import type { AppEnv } from '../http/context.ts';
import { parseInput } from '../parse-input.ts';
import { checkInstanceIdParam } from '../http/instance-id.ts';
import { requireScope } from '../http/scopes.ts';
import { dailyStatsQuerySchema, type DailyStatsService } from './daily-stats.ts';
import { installationExportQuerySchema, installationListQuerySchema } from './query-schemas.ts';
import type { InstallationQueries } from './queries.ts';

/** Parses a query string's parameters, or throws AppError('bad_request') naming each bad one. */
export const parseQuery = parseInput;

/** GET /v1/installations, /v1/installations/export and /v1/installations/:instanceId. */
export function createInstallationRoutes(deps: { queries: InstallationQueries }) {
  const routes = new Hono<AppEnv>();
  routes.get('/', requireScope('read'), async (c) =>
    c.body(await deps.queries.listJson(parseQuery(installationListQuerySchema, c.req.query())), 200, { 'content-type': 'application/json' }),
  );
  // Before /:instanceId, which would otherwise take "export" for an instance id.
  routes.get('/export', requireScope('read'), async (c) => {
    const query = parseQuery(installationExportQuerySchema, c.req.query());
    const { body, contentType, filename } = await deps.queries.exportStream(query);
    return c.body(body, 200, {
      'content-type': contentType,
      'content-disposition': `attachment; filename="${filename}"`,
      'cache-control': 'no-store',
    });
  });
  routes.get('/:instanceId', requireScope('read'), checkInstanceIdParam(), async (c) => {
    const found = await deps.queries.get(c.req.param('instanceId'));
    if (!found) throw new AppError('not_found', 'No installation with that instanceId');
    return c.json(found);
  });
  return routes;
}

/** GET /v1/stats/daily. */
export function createDailyStatsRoutes(deps: { dailyStats: DailyStatsService }) {
  const routes = new Hono<AppEnv>();
  routes.get('/', requireScope('read'), async (c) => c.json(await deps.dailyStats.forRange(parseQuery(dailyStatsQuerySchema, c.req.query()))));
  return routes;
}
