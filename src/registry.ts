import { createApp } from './app.ts';
import type { Clock } from './clock.ts';
import type { DatabaseHandle } from './db/client.ts';
import { createInstallationQueries } from './installations/queries.ts';
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
}

/**
 * Builds every service once, from explicit dependencies, and the app over them. No globals and
 * no side effects beyond the database handle it is given: tests build the real registry on a
 * temporary database, main.ts builds it on the configured one.
 */
export function createRegistry(options: RegistryOptions) {
  const { database, clock, logger } = options;
  const verifyJwt = createJwtVerifier({ publicKeys: options.wix.publicKeys, now: () => clock.now() });
  const ingest = createDeliveryIngest({ database, clock, groupCommit: options.groupCommit ?? true });
  const queries = createInstallationQueries(database.db);
  let ready = true;

  const app = createApp({
    logger,
    apiKeys: options.apiKeys,
    webhooks: { verifyJwt, ingest: ingest.ingest },
    queries,
    stats: () => ({ installations: queries.counts() }),
    isReady: () => ready && database.sqlite.open,
  });

  return {
    app,
    ingest,
    queries,
    verifyJwt,
    /** Stops taking work; the caller closes the database afterwards. */
    async stop() {
      ready = false;
      ingest.flush();
    },
  };
}

export type Registry = ReturnType<typeof createRegistry>;
