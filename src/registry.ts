import { eq, sql } from 'drizzle-orm';
import { createApp } from './app.ts';
import type { Clock } from './clock.ts';
import type { DatabaseHandle } from './db/client.ts';
import { installations } from './db/schema/index.ts';
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

export interface RegistryOptions {
  wix: WixCredentials;
  wixApiBaseUrl: string;
  apiKeys: readonly string[];
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
  const queries = createInstallationQueries(db);

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
  const worker = createOutboxWorker({
    store: outboxStore,
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
      createOutboxEnqueuer(db, () => worker.wake()),
      // An instance that removed the app gets no more tokens from the cache.
      ({ instanceId, after }) => {
        if (after.status === 'removed') broker.forget(instanceId);
      },
    ],
  });
  const handouts = createTokenHandouts({ database, broker, clock });
  const checkInstanceToken = createTokenInfoChecker({ appId, wixApiBaseUrl: options.wixApiBaseUrl, clock });
  let ready = true;

  const app = createApp({
    logger,
    apiKeys: options.apiKeys,
    corsOrigins: options.corsOrigins ?? [],
    webhooks: { verifyJwt, ingest: ingest.ingest },
    queries,
    handouts,
    checkInstanceToken,
    stats: () => ({ installations: queries.counts(), outbox: outboxStore.counts() }),
    isReady: () => ready && database.sqlite.open,
  });

  return {
    app,
    ingest,
    queries,
    verifyJwt,
    broker,
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
