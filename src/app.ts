import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { createDashboardRoutes, type DashboardDeps } from './dashboard/routes.tsx';
import { AppError } from './errors.ts';
import { apiKeyAuth } from './http/api-key-auth.ts';
import type { AppEnv } from './http/context.ts';
import { createApiDocsRoutes } from './http/docs.ts';
import { handleError } from './http/errors.ts';
import { requestLog } from './http/request-log.ts';
import type { InstallationQueries } from './installations/queries.ts';
import { createDailyStatsRoutes, createInstallationRoutes } from './installations/routes.ts';
import type { Logger } from './logger.ts';
import { createWebhookRoutes, type WebhookRouteDeps } from './webhooks/routes.ts';
import { createAppInstanceRoutes } from './wix/app-instance-routes.ts';
import type { TokenHandouts } from './wix/token-handouts.ts';
import type { InstanceTokenChecker } from './wix/token-info.ts';
import { createAccessTokenRoutes } from './wix/token-routes.ts';

export interface AppDeps {
  logger: Logger;
  apiKeys: readonly string[];
  webhooks: WebhookRouteDeps;
  queries: InstallationQueries;
  handouts: TokenHandouts;
  checkInstanceToken: InstanceTokenChecker;
  corsOrigins: readonly string[];
  /** /v1/stats body. */
  stats: () => Promise<Record<string, unknown>>;
  /** True once the database is open and migrated. */
  isReady: () => boolean;
  /** The developers' dashboard at /dashboard (signed in with the same API keys). */
  dashboard: DashboardDeps;
}

/** The one place where routes and middleware are put together. */
export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.use(requestId({ limitLength: 128 }));
  app.use(requestLog(deps.logger));
  app.use(secureHeaders());
  // While starting or shutting down, no connection is kept alive: a load balancer's next request
  // opens a new one, which goes to a ready process.
  app.use(async (c, next) => {
    await next();
    if (!deps.isReady()) c.header('Connection', 'close');
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => (deps.isReady() ? c.json({ status: 'ready' }) : c.json({ status: 'starting' }, 503)));
  app.route('/', createApiDocsRoutes()); // GET /openapi.json and /docs (Swagger UI): public

  app.route('/webhooks', createWebhookRoutes(deps.webhooks));
  app.route('/app', createAppInstanceRoutes({ check: deps.checkInstanceToken, queries: deps.queries, corsOrigins: deps.corsOrigins }));

  const v1 = new Hono<AppEnv>();
  v1.use(apiKeyAuth(deps.apiKeys));
  v1.route('/installations', createAccessTokenRoutes({ handouts: deps.handouts }));
  v1.route('/installations', createInstallationRoutes({ queries: deps.queries }));
  v1.route('/stats/daily', createDailyStatsRoutes({ dailyStats: deps.queries.daily }));
  v1.get('/stats', async (c) => c.json(await deps.stats()));
  app.route('/v1', v1);
  app.route('/dashboard', createDashboardRoutes(deps.dashboard));

  app.notFound(() => {
    throw new AppError('not_found', 'No such route');
  });
  app.onError(handleError);
  return app;
}

export type RegistryApp = ReturnType<typeof createApp>;
