import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from './clock.ts';
import { loadConfig, type Config, type WixCredentials } from './config.ts';
import { openStore } from './db/open-store.ts';
import type { RegistryStore } from './db/store.ts';
import { applyServerLimits } from './http/server-limits.ts';
import { createLogger, type Logger } from './logger.ts';
import { createRegistry, type Registry } from './registry.ts';
import { loadSandboxCredentials, sandboxDirFor } from './sandbox/credentials.ts';
import { createFakeWix, listenLocal, type FakeWix } from './sandbox/fake-wix.ts';
import { fakeWixStateFile, removeSandboxRuntime, writeSandboxRuntime } from './sandbox/runtime.ts';

/** How long shutdown waits for in-flight requests before cutting connections. */
export const SHUTDOWN_GRACE_MS = 10_000;

export interface RunningRegistry {
  config: Config;
  registry: Registry;
  store: RegistryStore;
  url: string;
  /** In sandbox mode: the local fake Wix and the credentials it accepts. */
  sandbox: { fakeWix: FakeWix; url: string; apiKey: string; appId: string } | null;
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  logger?: Logger;
  /** Where start-up notices go (the sandbox banner). */
  print?: (line: string) => void;
}

/** load config → sandbox (if no credentials) → open and migrate the database → build → serve. */
export async function startRegistry(options: StartOptions = {}): Promise<RunningRegistry> {
  const config = loadConfig(options.env);
  const logger = options.logger ?? createLogger(config.logLevel);
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const clock = options.clock ?? systemClock;

  let wix: WixCredentials;
  let wixApiBaseUrl = config.wixApiBaseUrl;
  let apiKeys = config.apiKeys;
  let sandbox: RunningRegistry['sandbox'] = null;
  let closeFakeWix = async () => {};
  let banner: { dir: string; created: boolean; apiKey: string; fakeUrl: string } | null = null;
  if (config.mode === 'sandbox') {
    const dir = sandboxDirFor(config.databasePath);
    const { credentials, created } = loadSandboxCredentials(dir);
    wix = { appId: credentials.appId, appSecret: credentials.appSecret, publicKeys: [credentials.publicKey] };
    apiKeys = [...apiKeys, credentials.apiKey];
    const fakeWix = createFakeWix({ appId: credentials.appId, appSecret: credentials.appSecret, stateFile: fakeWixStateFile(dir) });
    let fakeUrl = wixApiBaseUrl;
    if (!fakeUrl) {
      const listening = await listenLocal(fakeWix.app);
      fakeUrl = listening.url;
      // The CLI (reconcile, import, simulate --silently) finds the fake through this file.
      writeSandboxRuntime(dir, { fakeWixUrl: listening.url, pid: process.pid });
      closeFakeWix = async () => {
        removeSandboxRuntime(dir);
        await listening.close();
      };
    }
    wixApiBaseUrl = fakeUrl;
    sandbox = { fakeWix, url: fakeUrl, apiKey: credentials.apiKey, appId: credentials.appId };
    banner = { dir, created, apiKey: credentials.apiKey, fakeUrl };
  } else {
    wix = config.wix!;
  }

  // SQLite: the writer and reader threads; PostgreSQL: the pools. Opening the store creates and migrates the database.
  const store = await openStore(config.database, { threads: true, postgres: { readPoolSize: config.databasePoolSize, logger } });
  const registry = createRegistry({
    wix,
    wixApiBaseUrl: wixApiBaseUrl!,
    apiKeys,
    store,
    logger,
    clock,
    corsOrigins: config.corsOrigins,
    backoff: config.outboxBackoff,
    trustProxy: config.trustProxy,
    appInstanceRateLimitPerMinute: config.appInstanceRateLimitPerMinute,
    reconcile: config.reconcile,
    rawDeliveryRetentionDays: config.rawDeliveryRetentionDays,
    push: config.push,
  });
  await registry.start();

  const server = await new Promise<{ server: ServerType; port: number }>((resolve) => {
    const s = serve({ fetch: registry.app.fetch, port: config.port, hostname: config.host }, (info: AddressInfo) =>
      resolve({ server: s, port: info.port }),
    );
    applyServerLimits(s as import('node:http').Server, { logger }); // before 'listening' fires
  });
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${server.port}`;
  if (banner) printSandboxBanner(print, { ...banner, url, config });
  logger.info({ url, mode: config.mode, database: config.databasePath }, 'wix-registry listening');

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down: no new connections, finishing requests in flight');
      // /readyz answers 503 from this moment, and every answer closes its connection.
      registry.beginShutdown();
      const http = server.server as import('node:http').Server;
      const closed = new Promise<void>((done) => http.close(() => done()));
      http.closeIdleConnections?.();
      const grace = setTimeout(() => http.closeAllConnections?.(), SHUTDOWN_GRACE_MS);
      await closed;
      clearTimeout(grace);
      await registry.stop();
      await closeFakeWix();
      await store.close();
      logger.info('stopped');
    })());

  return { config, registry, store, url, sandbox, stop };
}

function printSandboxBanner(
  print: (line: string) => void,
  info: { dir: string; created: boolean; apiKey: string; fakeUrl: string; url: string; config: Config },
) {
  const lines = [
    '',
    '================================================================================',
    '  SANDBOX MODE: no Wix credentials are configured (WIX_APP_ID, WIX_APP_SECRET,',
    '  WIX_PUBLIC_KEY). Nothing here talks to the real Wix.',
    `  - database:        ${info.config.databasePath}`,
    `  - fake Wix:        ${info.fakeUrl}  (tokens, app instance, BI events, token-info)`,
    `  - signing keys:    ${info.dir}/credentials.json (${info.created ? 'generated now' : 'reused'})`,
    info.created
      ? `  - API key:         ${info.apiKey}   (shown once; also in the file above)`
      : `  - API key:         stored in ${info.dir}/credentials.json`,
    '  Try it:',
    `    npx wix-registry simulate installed${info.config.port === 0 ? ` --url ${info.url}/webhooks/wix` : ''}`,
    '    npx wix-registry installs list',
    `    curl -H "Authorization: Bearer <API key>" ${info.url}/v1/installations`,
    '================================================================================',
    '',
  ];
  for (const line of lines) print(line);
}
