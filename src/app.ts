import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { createAuditRoutes } from './audit/routes.ts';
import type { TokenAudit } from './audit/token-handouts.ts';
import type { ChangeFeed } from './changes/feed.ts';
import { createChangeRoutes } from './changes/routes.ts';
import type { Clock } from './clock.ts';
import { createDashboardRoutes, type DashboardDeps } from './dashboard/routes.tsx';
import { createSessionAdminRoutes } from './dashboard/session-routes.ts';
import { AppError } from './errors.ts';
import { apiKeyAuth } from './http/api-key-auth.ts';
import { clientAddressContext, createClientResolver, TRUST_NO_PROXY, type TrustProxy } from './http/client-address.ts';
import { createApiDocsRoutes } from './http/docs.ts';
import { handleError } from './http/errors.ts';
import { createHealthRoutes } from './http/health-routes.ts';
import { assertRoutesDocumented, createOpenApiDocument, createOpenApiRoutes } from './http/openapi.ts';
import {
  APP_INSTANCE_REQUESTS_PER_MINUTE,
  APP_INSTANCE_WINDOW_MS,
  AUTH_FAILURE_LIMIT,
  AUTH_FAILURE_WINDOW_MS,
  createFixedWindowCounter,
  limitFailedAuthentication,
  limitRequests,
} from './http/rate-limit.ts';
import { requestLog } from './http/request-log.ts';
import { assertRoutesDeclareAccess, type ApiKeyEntry } from './http/scopes.ts';
import type { InstallationQueries } from './installations/queries.ts';
import { createInstallationRoutes } from './installations/routes.ts';
import { createStatsRoutes, type RegistryStats } from './installations/stats-routes.ts';
import type { Logger } from './logger.ts';
import type { RegistryMetrics } from './metrics/metrics.ts';
import { createMetricsRoutes, webhookMetrics } from './metrics/routes.ts';
import { createWebhookRoutes, type WebhookRouteDeps } from './webhooks/routes.ts';
import { createAppInstanceRoutes } from './wix/app-instance-routes.ts';
import type { TokenHandouts } from './wix/token-handouts.ts';
import type { InstanceTokenChecker } from './wix/token-info.ts';
import { createAccessTokenRoutes } from './wix/token-routes.ts';

export interface AppDeps {
  logger: Logger;
  clock: Clock;
  /** REGISTRY_API_KEYS: a bare key has every scope. */
  apiKeys: readonly ApiKeyEntry[];
  webhooks: WebhookRouteDeps;
  queries: InstallationQueries;
  handouts: TokenHandouts;
  /** GET /v1/audit/token-handouts. */
  audit: TokenAudit;
  checkInstanceToken: InstanceTokenChecker;
  corsOrigins: readonly string[];
  /** /v1/stats body. */
  stats: () => Promise<RegistryStats>;
  /** GET /v1/changes. */
  changes: ChangeFeed;
  /** True once the database is open and migrated. */
  isReady: () => boolean;
  /** The developers' dashboard at /dashboard (signed in with the same API keys). */
  dashboard: DashboardDeps;
  /** GET /metrics and the hooks that feed it. */
  metrics: RegistryMetrics;
  /** Which proxy headers to believe for the client's address and scheme (default: none). */
  trustProxy?: TrustProxy;
  /** GET /app/instance requests per client per minute. */
  appInstanceRateLimitPerMinute?: number;
}

/**
 * The one place where routes and middleware are put together. Every route outside /dashboard is
 * defined with its OpenAPI description next to its handler; the document is built from them.
 */
export function createApp(deps: AppDeps) {
  const app = createOpenApiRoutes();
  const client = createClientResolver(deps.trustProxy ?? TRUST_NO_PROXY);
  // One failure count per client for the API and the dashboard's sign-in together.
  const authFailures = createFixedWindowCounter({ limit: AUTH_FAILURE_LIMIT, windowMs: AUTH_FAILURE_WINDOW_MS, clock: deps.clock });
  const limitAuthFailures = limitFailedAuthentication(authFailures);
  const appInstanceRequests = createFixedWindowCounter({
    limit: deps.appInstanceRateLimitPerMinute ?? APP_INSTANCE_REQUESTS_PER_MINUTE,
    windowMs: APP_INSTANCE_WINDOW_MS,
    clock: deps.clock,
  });
  const authenticate = apiKeyAuth(deps.apiKeys);

  app.use(requestId({ limitLength: 128 }));
  app.use(clientAddressContext(client));
  app.use(requestLog(deps.logger));
  app.use(deps.metrics.requestMetrics);
  app.use(secureHeaders());
  // While starting or shutting down, no connection is kept alive: a load balancer's next request
  // opens a new one, which goes to a ready process.
  app.use(async (c, next) => {
    await next();
    if (!deps.isReady()) c.header('Connection', 'close');
  });

  app.route('/', createHealthRoutes({ isReady: deps.isReady }));
  // GET /openapi.json and /docs (Swagger UI): public. The document is built on first use, from every route mounted below.
  app.route('/', createApiDocsRoutes({ document: () => createOpenApiDocument(app) }));

  app.use('/webhooks/wix', webhookMetrics(deps.metrics));
  app.route('/webhooks', createWebhookRoutes(deps.webhooks));
  app.route(
    '/app',
    createAppInstanceRoutes({
      check: deps.checkInstanceToken,
      queries: deps.queries,
      corsOrigins: deps.corsOrigins,
      limit: limitRequests(appInstanceRequests),
    }),
  );

  // Every route below declares the scope it needs in its definition (apiKeyAccess, which puts requireScope first).
  const v1 = createOpenApiRoutes();
  v1.use(limitAuthFailures, authenticate);
  v1.route('/installations', createInstallationRoutes({ queries: deps.queries }));
  v1.route('/installations', createAccessTokenRoutes({ handouts: deps.handouts }));
  v1.route('/stats', createStatsRoutes({ stats: deps.stats, dailyStats: deps.queries.daily }));
  v1.route('/audit', createAuditRoutes({ audit: deps.audit }));
  v1.route('/dashboard-sessions', createSessionAdminRoutes({ sessions: deps.dashboard.sessions }));
  v1.route('/changes', createChangeRoutes({ feed: deps.changes }));
  app.route('/v1', v1);
  app.use('/metrics', limitAuthFailures, authenticate);
  app.route('/metrics', createMetricsRoutes(deps.metrics));
  app.route('/dashboard', createDashboardRoutes({ ...deps.dashboard, authFailures, isHttps: (c) => client.isHttps(c) }));

  app.notFound(() => {
    throw new AppError('not_found', 'No such route');
  });
  app.onError(handleError);
  // A route under /v1, /metrics or /dashboard without a declared scope is a build error, not an open door.
  assertRoutesDeclareAccess(app);
  // A route outside /dashboard without an OpenAPI definition is a build error too: the document cannot leave one out.
  assertRoutesDocumented(app);
  return app;
}

export type RegistryApp = ReturnType<typeof createApp>;
