import { createRoute } from '@hono/zod-openapi';
import { healthSchema } from './api-schemas.ts';
import { createOpenApiRoutes } from './openapi.ts';
import { ok } from './openapi-parts.ts';

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'healthz',
  tags: ['Health'],
  summary: 'Liveness',
  responses: { 200: ok('The process runs.', healthSchema) },
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'readyz',
  tags: ['Health'],
  summary: 'Readiness',
  responses: {
    200: ok('The database is open and migrated.', healthSchema),
    503: ok('Not ready: starting, or shutting down. The body is `{"status":"starting"}`, not an error envelope.', healthSchema),
  },
});

/** GET /healthz and GET /readyz: probes for load balancers, answered with a status rather than the error envelope. */
export function createHealthRoutes(deps: { isReady: () => boolean }) {
  const routes = createOpenApiRoutes();
  routes.openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200));
  routes.openapi(readyz, (c) =>
    deps.isReady() ? c.json({ status: 'ready' as const }, 200) : c.json({ status: 'starting' as const }, 503),
  );
  return routes;
}
