import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../http/context.ts';
import { requireScope } from '../http/scopes.ts';
import { WEBHOOK_OUTCOMES, type RegistryMetrics, type WebhookOutcome } from './metrics.ts';

/** GET /metrics: the Prometheus text format (scope `read`; authentication is mounted in front). */
export function createMetricsRoutes(metrics: RegistryMetrics) {
  const routes = new Hono<AppEnv>();
  routes.get('/', requireScope('read'), async (c) => c.body(await metrics.render(), 200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' }));
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
