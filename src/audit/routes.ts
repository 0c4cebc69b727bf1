import { createRoute } from '@hono/zod-openapi';
import { tokenHandoutPageSchema } from '../http/api-schemas.ts';
import { createOpenApiRoutes } from '../http/openapi.ts';
import { apiKeyAccess, BAD_QUERY, errorResponses, NO_STORE_HEADER, ok } from '../http/openapi-parts.ts';
import { tokenHandoutQuerySchema, type TokenAudit } from './token-handouts.ts';

/**
 * `admin` only: the audit names every key's fingerprint and which instances each asked about,
 * which a `read` key (a dashboard, Prometheus) has no need to see.
 */
const admin = apiKeyAccess('admin');

const listTokenHandouts = createRoute({
  ...admin.operation,
  method: 'get',
  path: '/token-handouts',
  operationId: 'listTokenHandouts',
  tags: ['Admin'],
  summary: 'The token audit: who was handed an access token for which instance, and when',
  description:
    'One row per `POST /v1/installations/{instanceId}/access-token`, newest first: the key fingerprint, the instance, the time, the outcome and the request id; never the token. ' +
    'Needs the `admin` scope. Keyset pagination with an opaque `cursor`.',
  request: { query: tokenHandoutQuerySchema },
  responses: {
    200: ok('A page of the audit.', tokenHandoutPageSchema, NO_STORE_HEADER),
    ...errorResponses({ 400: BAD_QUERY, ...admin.errors }),
  },
});

/** GET /v1/audit/token-handouts: the token audit, newest first. */
export function createAuditRoutes(deps: { audit: TokenAudit }) {
  const routes = createOpenApiRoutes();
  routes.openapi(listTokenHandouts, async (c) => {
    c.header('Cache-Control', 'no-store');
    return c.json(await deps.audit.list(c.req.valid('query')), 200);
  });
  return routes;
}
