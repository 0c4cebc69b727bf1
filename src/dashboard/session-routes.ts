import { createRoute } from '@hono/zod-openapi';
import { sessionsEndedSchema } from '../http/api-schemas.ts';
import { createOpenApiRoutes } from '../http/openapi.ts';
import { apiKeyAccess, errorResponses, ok } from '../http/openapi-parts.ts';
import type { DashboardSessions } from './sessions.ts';

const admin = apiKeyAccess('admin');

const endDashboardSessions = createRoute({
  ...admin.operation,
  method: 'delete',
  path: '/',
  operationId: 'endDashboardSessions',
  tags: ['Admin'],
  summary: 'End every dashboard session',
  description:
    'Every open dashboard session ends: its cookie opens nothing from then on, in this process at once and in other processes (replicas) within 5 s. ' +
    'As `wix-registry sessions revoke --all`. Needs the `admin` scope.',
  responses: {
    200: ok('How many sessions were ended.', sessionsEndedSchema),
    ...errorResponses(admin.errors),
  },
});

/**
 * DELETE /v1/dashboard-sessions: ends every dashboard session (`admin`), as
 * `wix-registry sessions revoke --all` does: each open cookie opens nothing from then on (in this
 * process at once; in other processes within SESSION_CACHE_TTL_MS).
 */
export function createSessionAdminRoutes(deps: { sessions: DashboardSessions }) {
  const routes = createOpenApiRoutes();
  routes.openapi(endDashboardSessions, async (c) => c.json({ ended: await deps.sessions.endAll() }, 200));
  return routes;
}
