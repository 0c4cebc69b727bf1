import { createRoute } from '@hono/zod-openapi';
import type { z } from 'zod';
import { dailyStatsSchema, statsSchema } from '../http/api-schemas.ts';
import { createOpenApiRoutes } from '../http/openapi.ts';
import { apiKeyAccess, BAD_QUERY, errorResponses, ok } from '../http/openapi-parts.ts';
import { dailyStatsQuerySchema, type DailyStatsService } from './daily-stats.ts';

/** The body of GET /v1/stats. */
export type RegistryStats = z.output<typeof statsSchema>;

const read = apiKeyAccess('read');

const getStats = createRoute({
  ...read.operation,
  method: 'get',
  path: '/',
  operationId: 'getStats',
  tags: ['Stats'],
  summary: 'Installation and outbox counts, push endpoint health',
  responses: {
    200: ok('Installations per status, outbox jobs per state (pushes of changes included), and each push endpoint.', statsSchema),
    ...errorResponses(read.errors),
  },
});

const getDailyStats = createRoute({
  ...read.operation,
  method: 'get',
  path: '/daily',
  operationId: 'getDailyStats',
  tags: ['Stats'],
  summary: 'Installs, removals, active installations and churn per UTC day',
  description: '`from` inclusive, `to` exclusive, both UTC days; 30 days ending today by default, at most 366.',
  request: { query: dailyStatsQuerySchema },
  responses: {
    200: ok('One entry per day of the window, and the churn of its installs.', dailyStatsSchema),
    ...errorResponses({
      400: `${BAD_QUERY} Also an empty window (\`to\` not after \`from\`) or one longer than 366 days.`,
      ...read.errors,
    }),
  },
});

/** GET /v1/stats (counts and push endpoint health) and GET /v1/stats/daily (trends per UTC day). */
export function createStatsRoutes(deps: { stats: () => Promise<RegistryStats>; dailyStats: DailyStatsService }) {
  const routes = createOpenApiRoutes();
  routes.openapi(getStats, async (c) => c.json(await deps.stats(), 200));
  routes.openapi(getDailyStats, async (c) => c.json(await deps.dailyStats.forRange(c.req.valid('query')), 200));
  return routes;
}
