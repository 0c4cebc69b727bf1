/** The environment of a live-mode registry process, and the app's own `migrate` command. */
import { spawnTracked } from './proc.ts';
import { generateSigningKey } from './webhooks.ts';

export interface RegistryEnvOptions {
  appId: string;
  appSecret: string;
  publicKeyPem: string;
  apiKey: string;
  wixApiBaseUrl: string;
  databaseUrl: string;
  port: number;
}

export function registryEnv(o: RegistryEnvOptions): NodeJS.ProcessEnv {
  return {
    ...process.env,
    WIX_APP_ID: o.appId,
    WIX_APP_SECRET: o.appSecret,
    WIX_PUBLIC_KEY: o.publicKeyPem,
    DATABASE_URL: o.databaseUrl,
    PORT: String(o.port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    REGISTRY_API_KEYS: o.apiKey,
    WIX_API_BASE_URL: o.wixApiBaseUrl,
  };
}

/** Placeholder credentials: `migrate` needs a valid live-mode configuration, not real keys. */
const MIGRATE_ENV = {
  WIX_APP_ID: '00000000-0000-4000-8000-000000000000',
  WIX_APP_SECRET: 'bench-migrate-only',
  WIX_API_BASE_URL: 'http://127.0.0.1:9',
  LOG_LEVEL: 'warn',
};

let migrateKeyPem: string | undefined;

/**
 * Creates or upgrades the schema at `databaseUrl` with the app's own migrations, through the
 * `wix-registry migrate` command (the outside contract, whatever engine the URL names).
 */
export async function runMigrations(databaseUrl: string): Promise<void> {
  migrateKeyPem ??= generateSigningKey().publicKeyPem;
  const publicKeyPem = migrateKeyPem;
  const migrate = spawnTracked('wix-registry migrate', process.execPath, ['bin/wix-registry.js', 'migrate'], {
    env: { ...process.env, ...MIGRATE_ENV, WIX_PUBLIC_KEY: publicKeyPem, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const code = await migrate.exited;
  if (code !== 0) throw new Error(`wix-registry migrate failed (${code}):\n${migrate.tail()}`);
}
