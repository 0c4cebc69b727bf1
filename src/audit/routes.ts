import { Hono } from 'hono';
import type { AppEnv } from '../http/context.ts';
import { requireScope } from '../http/scopes.ts';
import { parseInput } from '../parse-input.ts';
import { tokenHandoutQuerySchema, type TokenAudit } from './token-handouts.ts';

/**
 * GET /v1/audit/token-handouts: the token audit, newest first. `admin` only: it names every key's
 * fingerprint and which instances each asked about, which a `read` key (a dashboard, Prometheus)
 * has no need to see.
 */
export function createAuditRoutes(deps: { audit: TokenAudit }) {
  const routes = new Hono<AppEnv>();
  routes.get('/token-handouts', requireScope('admin'), async (c) => {
    c.header('Cache-Control', 'no-store');
    return c.json(await deps.audit.list(parseInput(tokenHandoutQuerySchema, c.req.query())));
  });
  return routes;
}
