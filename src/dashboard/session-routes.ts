import { Hono } from 'hono';
import type { AppEnv } from '../http/context.ts';
import { requireScope } from '../http/scopes.ts';
import type { DashboardSessions } from './sessions.ts';

/**
 * DELETE /v1/dashboard-sessions: ends every dashboard session (`admin`), as
 * `wix-registry sessions revoke --all` does: each open cookie opens nothing from then on (in this
 * process at once; in other processes within SESSION_CACHE_TTL_MS).
 */
export function createSessionAdminRoutes(deps: { sessions: DashboardSessions }) {
  const routes = new Hono<AppEnv>();
  routes.delete('/', requireScope('admin'), async (c) => c.json({ ended: await deps.sessions.endAll() }));
  return routes;
}
