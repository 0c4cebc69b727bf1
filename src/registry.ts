import { createHmac } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { createApp } from './app.ts';
import type { Clock } from './clock.ts';
import type { DatabaseHandle } from './db/client.ts';
import type { TrustProxy } from './http/client-address.ts';
import { apiKeyOf, type ApiKeyEntry } from './http/scopes.ts';
import { createMetrics } from './metrics/metrics.ts';
import { installations } from './db/schema/index.ts';
import { createGroupCommitter } from './db/group-commit.ts';
import { createInstallationQueries } from './installations/queries.ts';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './outbox/backoff.ts';
import { createOutboxEnqueuer } from './outbox/enqueue.ts';
import { createJobHandlers } from './outbox/jobs.ts';
import { createOutboxStore } from './outbox/store.ts';
import { createOutboxWorker } from './outbox/worker.ts';
import { createInstanceClients } from './wix/instance-clients.ts';
import { createTokenBroker } from './wix/token-broker.ts';
import { createTokenHandouts } from './wix/token-handouts.ts';
import { createTokenInfoChecker } from './wix/token-info.ts';
import type { Logger } from './logger.ts';
import type { WixCredentials } from './config.ts';
import { createDeliveryIngest } from './webhooks/ingest.ts';
import { createJwtVerifier } from './webhooks/verify.ts';

/** A delivery within this window means webhooks are streaming in: the outbox yields to them. */
export const WEBHOOK_BUSY_WINDOW_MS = 200;

export interface RegistryOptions {
  wix: WixCredentials;
  wixApiBaseUrl: string;
  apiKeys: readonly ApiKeyEntry[];
  database: DatabaseHandle;
  logger: Logger;
  clock: Clock;
  groupCommit?: boolean;
  /** Origins allowed to call /app/* from a browser. */
  corsOrigins?: readonly string[];
  /** Outbox retry policy (tests shorten it). */
  backoff?: BackoffPolicy;
  /** Outbox worker poll interval. */
  outboxPollIntervalMs?: number;
  /** Bound on each call to Wix (default WIX_REQUEST_TIMEOUT_MS). */
  wixRequestTimeoutMs?: number;
  /** TRUST_PROXY: which proxy headers name the client (default: none). */
  trustProxy?: TrustProxy;
  /** GET /app/instance requests per client per minute. */
  appInstanceRateLimitPerMinute?: number;
}

/**
 * Builds every service once, from explicit dependencies, and the app over them. No globals and
 * no side effects beyond the database handle it is given: tests build the real registry on a
 * temporary database, main.ts builds it on the configured one.
 */
export function createRegistry(options: RegistryOptions) {
  const { database, clock, logger } = options;
  const { db } = database;
  const { appId, appSecret } = options.wix;
  const verifyJwt = createJwtVerifier({ publicKeys: options.wix.publicKeys, now: () => clock.now() });
  const queries = createInstallationQueries(db, { clock });

  const selectStatus = db
    .select({ status: installations.status })
    .from(installations)
    .where(eq(installations.instanceId, sql.placeholder('instanceId')))
    .prepare();
  const broker = createTokenBroker({
    appId,
    appSecret,
    wixApiBaseUrl: options.wixApiBaseUrl,
    clock,
    instanceStatus: (instanceId) => selectStatus.get({ instanceId })?.status,
    ...(options.wixRequestTimeoutMs !== undefined ? { timeoutMs: options.wixRequestTimeoutMs } : {}),
  });
  const clients = createInstanceClients({
    appId,
    appSecret,
    wixApiBaseUrl: options.wixApiBaseUrl,
    broker,
    ...(options.wixRequestTimeoutMs !== undefined ? { timeoutMs: options.wixRequestTimeoutMs } : {}),
  });

  const outboxStore = createOutboxStore(db);
  const commitOutcome = createGroupCommitter(database.sqlite, (write: () => void) => write());
  let lastDeliveryAt = Number.NEGATIVE_INFINITY;
  const worker = createOutboxWorker({
    store: outboxStore,
    commit: (write) => commitOutcome.submit(write),
    busy: () => performance.now() - lastDeliveryAt < WEBHOOK_BUSY_WINDOW_MS,
    handlers: createJobHandlers({ db, clients, now: () => clock.now() }),
    clock,
    logger,
    backoff: options.backoff ?? DEFAULT_BACKOFF,
    ...(options.outboxPollIntervalMs !== undefined ? { pollIntervalMs: options.outboxPollIntervalMs } : {}),
  });
  const ingest = createDeliveryIngest({
    database,
    clock,
    groupCommit: options.groupCommit ?? true,
    onTransition: [
      createOutboxEnqueuer(database, () => worker.wake()),
      // An instance that removed the app gets no more tokens from the cache.
      ({ instanceId, after }) => {
        if (after.status === 'removed') broker.forget(instanceId);
      },
    ],
  });
  const metrics = createMetrics({
    clock,
    logger,
    collectors: {
      installationCounts: async () => queries.counts(),
      outbox: async () => {
        const due = outboxStore.nextDueAt();
        return { byState: outboxStore.counts(), openByKind: outboxStore.openCountsByKind(), oldestDueAt: due !== null && due <= clock.now() ? due : null };
      },
    },
  });
  const handouts = createTokenHandouts({ database, broker, clock, observe: metrics.observeTokenHandout });
  const checkInstanceToken = createTokenInfoChecker({ appId, wixApiBaseUrl: options.wixApiBaseUrl, clock });
  let ready = true;

  const app = createApp({
    logger,
    clock,
    metrics,
    trustProxy: options.trustProxy,
    appInstanceRateLimitPerMinute: options.appInstanceRateLimitPerMinute,
    apiKeys: options.apiKeys,
    corsOrigins: options.corsOrigins ?? [],
    webhooks: {
      verifyJwt,
      ingest: (delivery) => {
        lastDeliveryAt = performance.now();
        return ingest.ingest(delivery);
      },
    },
    queries,
    handouts,
    checkInstanceToken,
    stats: () => ({ installations: queries.counts(), outbox: outboxStore.counts() }),
    isReady: () => ready && database.sqlite.open,
    dashboard: { queries, outbox: outboxStore, apiKeys: options.apiKeys, sessionSecret: dashboardSessionSecret(appSecret, options.apiKeys), clock },
  });

  return {
    app,
    ingest,
    queries,
    verifyJwt,
    broker,
    /** Prometheus metrics; observeCommitBatch and observeWixTokenRequest are for the storage layer and the broker. */
    metrics,
    outbox: { store: outboxStore, worker },
    /**
     * A real @wix/sdk client acting as the app on one instance, with tokens from the shared
     * broker: `registry.clientFor(instanceId, { appInstances }).appInstances.getAppInstance()`.
     */
    clientFor: clients.clientFor,
    /** Starts the background work (the outbox worker). The HTTP app works without it. */
    start() {
      worker.start();
    },
    /** Stops taking work; the caller closes the database afterwards. */
    async stop() {
      ready = false;
      ingest.flush();
      await worker.stop();
    },
  };
}

export type Registry = ReturnType<typeof createRegistry>;

/**
 * Signs dashboard session cookies. Derived, not configured: rotating the app secret or changing
 * REGISTRY_API_KEYS ends every dashboard session, and there is no extra secret to manage.
 */
function dashboardSessionSecret(appSecret: string, apiKeys: readonly ApiKeyEntry[]): string {
  // The keys, not their scopes: a scope change applies to open sessions (looked up per request) without ending them.
  return createHmac('sha256', `${appSecret}\n${apiKeys.map(apiKeyOf).join('\n')}`).update('dashboard-session').digest('hex');
}
