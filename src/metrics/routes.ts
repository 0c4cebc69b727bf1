import { createRoute } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import type { AppEnv } from '../http/context.ts';
import { createOpenApiRoutes } from '../http/openapi.ts';
import { apiKeyAccess, errorResponses, okContent } from '../http/openapi-parts.ts';
import { WEBHOOK_OUTCOMES, type RegistryMetrics, type WebhookOutcome } from './metrics.ts';

const read = apiKeyAccess('read');

const getMetrics = createRoute({
  ...read.operation,
  method: 'get',
  path: '/',
  operationId: 'getMetrics',
  tags: ['Metrics'],
  summary: 'Prometheus metrics',
  description:
    'The Prometheus text exposition format: webhooks, latency, group commits, outbox, tokens, installations, HTTP requests and the process. Needs the `read` scope.',
  responses: {
    200: okContent('Every metric, in the Prometheus text format (version 0.0.4).', {
      'text/plain': { schema: z.string().meta({ description: 'Prometheus text exposition format.' }) },
    }),
    ...errorResponses(read.errors),
  },
});

/** GET /metrics: the Prometheus text format (scope `read`; authentication is mounted in front). */
export function createMetricsRoutes(metrics: RegistryMetrics) {
  const routes = createOpenApiRoutes();
  routes.openapi(getMetrics, async (c) =>
    c.text(await metrics.render(), 200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' }),
  );
  return routes;
}

const isWebhookOutcome = (value: unknown): value is WebhookOutcome => (WEBHOOK_OUTCOMES as readonly unknown[]).includes(value);

/**
 * Around POST /webhooks/wix: its latency, and its outcome — `accepted` / `duplicate` from the
 * route's log fields, else the error code the error handler answered with.
 */
export function webhookMetrics(metrics: RegistryMetrics) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    await next();
    const delivery = c.get('logFields')?.delivery;
    const code = c.get('errorCode');
    const outcome = c.res.status === 200 && isWebhookOutcome(delivery) ? delivery : isWebhookOutcome(code) ? code : 'internal';
    metrics.observeWebhook(outcome, (performance.now() - started) / 1000);
  });
}
