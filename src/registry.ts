import { createApp } from './app.ts';
import { createTokenAudit } from './audit/token-handouts.ts';
import { createChangeFeed } from './changes/feed.ts';
import type { Clock } from './clock.ts';
import type { ReconcileConfig, WixCredentials } from './config.ts';
import { createDashboardSessions } from './dashboard/sessions.ts';
import type { RegistryStore } from './db/store.ts';
import type { TrustProxy } from './http/client-address.ts';
import type { ApiKeyEntry } from './http/scopes.ts';
import { createMetrics } from './metrics/metrics.ts';
import type { InstallationStatus } from './installations/model.ts';
import { createInstallationQueries } from './installations/queries.ts';
import { createRetention, RAW_DELIVERY_RETENTION_DAYS_DEFAULT } from './installations/retention.ts';
import type { Logger } from './logger.ts';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './outbox/backoff.ts';
import { createJobHandlers } from './outbox/jobs.ts';
import { createPushHandler, describeEndpoint, PUSH_CONCURRENCY_PER_ENDPOINT, toPushEndpointHealth } from './outbox/push.ts';
import { createOutboxWorker } from './outbox/worker.ts';
import { createReconciler } from './reconcile/reconciler.ts';
import { createReconcileScheduler } from './reconcile/scheduler.ts';
import { createDeliveryIngest } from './webhooks/ingest.ts';
import { createJwtVerifier } from './webhooks/verify.ts';
import { WIX_REQUEST_TIMEOUT_MS } from './wix/fetch-routing.ts';
import { createExpiringCache } from './wix/expiring-cache.ts';
import { createInstanceClients } from './wix/instance-clients.ts';
import { createTokenBroker } from './wix/token-broker.ts';
import { createTokenHandouts } from './wix/token-handouts.ts';
import { createTokenInfoChecker } from './wix/token-info.ts';

/** A delivery within this window means webhooks are streaming in: the outbox yields to them. */
export const WEBHOOK_BUSY_WINDOW_MS = 200;
/**
 * How long the token broker trusts an instance's status (active, removed, unknown) without asking
 * the store again: a token request then costs no read. A webhook that changes the status in this
 * process takes effect at once; a change made elsewhere (the CLI's reconcile, another replica)
 * within this long.
 */
export const INSTANCE_STATUS_CACHE_MS = 1_000;

export interface RegistryOptions {
  wix: WixCredentials;
  wixApiBaseUrl: string;
  apiKeys: readonly ApiKeyEntry[];
  /** The storage boundary: opened (and migrated) by the caller, closed by the caller. */
  store: RegistryStore;
  logger: Logger;
  clock: Clock;
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
  /** Reconciliation: its rate, and the schedule the server follows when `schedule` is on (default: no schedule). */
  reconcile?: ReconcileConfig;
  /** RAW_DELIVERY_RETENTION_DAYS: raw JWTs older than this are pruned (default 30). */
  rawDeliveryRetentionDays?: number;
  /** REGISTRY_EVENT_ENDPOINTS and REGISTRY_EVENT_SECRET: where each change is pushed, signed (none: no push). */
  push?: PushOptions | null;
}

export interface PushOptions {
  endpoints: readonly string[];
  /** `whsec_<base64>` (config.ts checks it). */
  secret: string;
  /** Attempts in flight per endpoint (default PUSH_CONCURRENCY_PER_ENDPOINT). */
  concurrencyPerEndpoint?: number;
  /** Bound on each attempt (default PUSH_REQUEST_TIMEOUT_MS). */
  timeoutMs?: number;
}

/**
 * Builds every service once, from explicit dependencies, and the app over them. No globals and
 * no side effects beyond the store it is given: tests build the real registry on a temporary
 * database, main.ts builds it on the configured one.
 */
export function createRegistry(options: RegistryOptions) {
  const { store, clock, logger } = options;
  const { appId, appSecret } = options.wix;
  const verifyJwt = createJwtVerifier({ publicKeys: options.wix.publicKeys, now: () => clock.now() });
  const queries = createInstallationQueries(store, { clock });
  const wixRequestTimeoutMs = options.wixRequestTimeoutMs ?? WIX_REQUEST_TIMEOUT_MS;
  const metrics = createMetrics({
    clock,
    logger,
    collectors: {
      installationCounts: () => store.installations.counts(),
      outbox: async () => {
        const [byState, openByKind, due] = await Promise.all([
          store.outbox.counts(),
          store.outbox.openCountsByKind(),
          store.outbox.nextDueAt(),
        ]);
        return { byState, openByKind, oldestDueAt: due !== null && due <= clock.now() ? due : null };
      },
      pushEndpoints: async () =>
        (await store.push.endpoints())
          .filter((e) => e.active)
          .map((e) => ({ endpoint: describeEndpoint(e.url), oldestUndeliveredAt: e.oldestUndeliveredAt })),
    },
  });
  store.observeCommits((commands) => metrics.observeCommitBatch(commands));

  const statuses = createExpiringCache<string, InstallationStatus | undefined>({ maxEntries: 10_000, clock });
  const broker = createTokenBroker({
    appId,
    appSecret,
    wixApiBaseUrl: options.wixApiBaseUrl,
    clock,
    instanceStatus: (instanceId) =>
      statuses.get(instanceId, async () => ({
        value: await store.installations.status(instanceId),
        staleAt: clock.now() + INSTANCE_STATUS_CACHE_MS,
      })),
    timeoutMs: wixRequestTimeoutMs,
    onTokenRequest: (outcome) => metrics.observeWixTokenRequest(outcome),
    // PostgreSQL replicas share each instance's token through the store (issue 9); SQLite has no such rows.
    sharedTokens: store.tokens,
    logger,
  });
  const clients = createInstanceClients({ wixApiBaseUrl: options.wixApiBaseUrl, broker, timeoutMs: wixRequestTimeoutMs });

  let lastDeliveryAt = Number.NEGATIVE_INFINITY;
  const workerOptions = {
    store,
    busy: () => performance.now() - lastDeliveryAt < WEBHOOK_BUSY_WINDOW_MS,
    clock,
    logger,
    backoff: options.backoff ?? DEFAULT_BACKOFF,
    ...(options.outboxPollIntervalMs !== undefined ? { pollIntervalMs: options.outboxPollIntervalMs } : {}),
  };
  const worker = createOutboxWorker({ ...workerOptions, handlers: createJobHandlers({ clients }) });
  const feed = createChangeFeed({ store });
  // One worker per push endpoint: its own claims and slots, so a slow endpoint delays only itself.
  const push = options.push ?? null;
  const pushEndpoints = [...new Set(push?.endpoints ?? [])];
  const pushHandler = push
    ? createPushHandler({
        secret: push.secret,
        change: (position) => store.changes.get(position),
        clock,
        ...(push.timeoutMs ? { timeoutMs: push.timeoutMs } : {}),
      })
    : null;
  const pushWorkers = pushHandler
    ? pushEndpoints.map((endpoint) =>
        createOutboxWorker({
          ...workerOptions,
          handlers: { push_change: pushHandler },
          lane: { endpoint },
          recoverOnStart: false,
          concurrency: push?.concurrencyPerEndpoint ?? PUSH_CONCURRENCY_PER_ENDPOINT,
        }),
      )
    : [];
  let stopWakingPushWorkers = () => {};
  const ingest = createDeliveryIngest({
    store,
    clock,
    onStored: ({ event }, outcome) => {
      if (outcome.jobsEnqueued) worker.wake();
      if (outcome.statusAfter) statuses.forget(event.instanceId);
      // An instance that removed the app gets no more tokens from the cache.
      if (outcome.statusAfter === 'removed') broker.forget(event.instanceId);
    },
  });
  const handouts = createTokenHandouts({ store, broker, clock, observe: (outcome) => metrics.observeTokenHandout(outcome) });
  const reconcileScheduler = options.reconcile?.schedule
    ? createReconcileScheduler({
        store,
        clock,
        logger,
        config: options.reconcile,
        reconciler: createReconciler({
          store,
          clock,
          wix: { appId, appSecret, wixApiBaseUrl: options.wixApiBaseUrl },
          ratePerSec: options.reconcile.ratePerSec,
          maxRemovedShare: options.reconcile.maxRemovedShare,
          timeoutMs: wixRequestTimeoutMs,
        }),
      })
    : null;
  const checkInstanceToken = createTokenInfoChecker({ appId, wixApiBaseUrl: options.wixApiBaseUrl, clock, timeoutMs: wixRequestTimeoutMs });
  const sessions = createDashboardSessions({
    apiKeys: options.apiKeys,
    clock,
    storage: {
      secret: (candidate) => store.write({ kind: 'sessionSecret', candidate, now: clock.now() }),
      create: (session) => store.write({ kind: 'createSession', session }),
      find: (idHash) => store.sessions.find(idHash),
      end: (filter) => store.write({ kind: 'endSessions', filter }),
    },
  });
  const retention = createRetention({
    store,
    clock,
    logger,
    rawDeliveryRetentionDays: options.rawDeliveryRetentionDays ?? RAW_DELIVERY_RETENTION_DAYS_DEFAULT,
    busy: () => performance.now() - lastDeliveryAt < WEBHOOK_BUSY_WINDOW_MS,
  });
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
    audit: createTokenAudit({ page: (request) => store.audit.tokenHandouts(request) }),
    checkInstanceToken,
    stats: async () => {
      const [installations, outbox, endpoints] = await Promise.all([
        store.installations.counts(),
        store.outbox.counts(),
        store.push.endpoints(),
      ]);
      return { installations, outbox, push: { endpoints: endpoints.map(toPushEndpointHealth) } };
    },
    changes: feed,
    isReady: () => ready && store.isReady(),
    dashboard: {
      queries,
      outbox: { list: (filter) => store.outbox.list(filter), counts: () => store.outbox.counts() },
      sessions,
      changes: {
        latest: (filter) => feed.latest(filter),
        pushEndpoints: async () => (await store.push.endpoints()).map(toPushEndpointHealth),
      },
      clock,
    },
  });

  return {
    app,
    ingest,
    queries,
    verifyJwt,
    broker,
    store,
    /** Prometheus metrics; observeCommitBatch and observeWixTokenRequest are for the storage layer and the broker. */
    metrics,
    outbox: { worker, pushWorkers },
    /** Dashboard sessions (sign-in, revocation). */
    sessions,
    /** Raw-JWT pruning and expired sessions, on a timer once started. */
    retention,
    /** The change feed (GET /v1/changes, the CLI's `changes`). */
    changes: feed,
    /**
     * A real @wix/sdk client acting as the app on one instance, with tokens from the shared
     * broker: `registry.clientFor(instanceId, { appInstances }).appInstances.getAppInstance()`.
     */
    clientFor: clients.clientFor.bind(clients),
    /** Scheduled reconciliation, when configured (src/reconcile/scheduler.ts). */
    reconcileScheduler,
    /**
     * Starts the background work: the outbox worker, a push worker per endpoint once the database
     * knows the endpoints (changes enqueue their pushes from that table, whichever process records
     * them), scheduled reconciliation and retention. The HTTP app works without it.
     */
    async start() {
      await worker.start();
      const cancelled = await store.write({ kind: 'configurePushEndpoints', urls: pushEndpoints, now: clock.now() });
      if (cancelled > 0) logger.warn({ cancelled }, 'push: jobs for endpoints no longer in REGISTRY_EVENT_ENDPOINTS were cancelled');
      for (const pushWorker of pushWorkers) await pushWorker.start();
      if (pushWorkers.length > 0) stopWakingPushWorkers = store.changes.subscribe(() => pushWorkers.forEach((w) => w.wake()));
      reconcileScheduler?.start();
      retention.start();
      await sessions
        .prepare()
        .catch((err: unknown) => logger.warn({ err }, 'dashboard sessions: could not prepare; the first dashboard request tries again'));
    },
    /** From now on /readyz answers 503 and every answer closes its connection (load balancers move on); long-polls answer now. */
    beginShutdown() {
      ready = false;
      feed.release();
    },
    /** Stops taking work; the caller closes the store afterwards. */
    async stop() {
      ready = false;
      feed.release();
      stopWakingPushWorkers();
      await Promise.all([worker.stop(), ...pushWorkers.map((w) => w.stop()), reconcileScheduler?.stop(), retention.stop()]);
      // Clears of shared token rows still running (a 401, a removal) finish before the store closes.
      await broker.settled();
    },
  };
}

export type Registry = ReturnType<typeof createRegistry>;
