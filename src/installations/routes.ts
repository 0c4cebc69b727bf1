import { Hono } from 'hono';
import type { z } from 'zod';
import { AppError } from '../errors.ts';
import type { AppEnv } from '../http/context.ts';
import { checkInstanceIdParam } from '../http/instance-id.ts';
import { requireScope } from '../http/scopes.ts';
import { dailyStatsQuerySchema, type DailyStatsService } from './daily-stats.ts';
import { createExportStream, EXPORT_CONTENT_TYPES, exportFilename } from './export.ts';
import { installationExportQuerySchema, installationListQuerySchema, parseInput, type InstallationQueries } from './queries.ts';

/** Parses a query string's parameters, or throws AppError('bad_request') naming each bad one. */
export function parseQuery<S extends z.ZodType>(schema: S, query: Record<string, string>): z.output<S> {
  return parseInput(schema, query);
}

/** GET /v1/installations, /v1/installations/export and /v1/installations/:instanceId. */
export function createInstallationRoutes(deps: { queries: InstallationQueries }) {
  const routes = new Hono<AppEnv>();
  routes.get('/', requireScope('read'), (c) => c.json(deps.queries.list(parseQuery(installationListQuerySchema, c.req.query()))));
  // Before /:instanceId, which would otherwise take "export" for an instance id.
  routes.get('/export', requireScope('read'), (c) => {
    const query = parseQuery(installationExportQuerySchema, c.req.query());
    const body = createExportStream(deps.queries, query);
    return c.body(body, 200, {
      'content-type': EXPORT_CONTENT_TYPES[query.format],
      'content-disposition': `attachment; filename="${exportFilename(query.format)}"`,
      'cache-control': 'no-store',
    });
  });
  routes.get('/:instanceId', requireScope('read'), checkInstanceIdParam(), (c) => {
    const found = deps.queries.get(c.req.param('instanceId'));
    if (!found) throw new AppError('not_found', 'No installation with that instanceId');
    return c.json(found);
  });
  return routes;
}

/** GET /v1/stats/daily. */
export function createDailyStatsRoutes(deps: { dailyStats: DailyStatsService }) {
  const routes = new Hono<AppEnv>();
  routes.get('/', requireScope('read'), (c) => c.json(deps.dailyStats.forRange(parseQuery(dailyStatsQuerySchema, c.req.query()))));
  return routes;
}
