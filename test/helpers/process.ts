import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Starts `wix-registry serve` as its own process; resolves once it logs its URL. */
export async function spawnRegistry(env: Record<string, string>, timeoutMs = 20_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['bin/wix-registry.js', 'serve'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      WIX_APP_ID: '',
      WIX_APP_SECRET: '',
      WIX_PUBLIC_KEY: '',
      REGISTRY_API_KEYS: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Nobody gets this child back to stop it: it must not outlive the test.
      child.kill('SIGKILL');
      reject(new Error(`registry did not start:\n${out}`));
    }, timeoutMs);
    const onData = () => {
      const match = /"url":"(http:\/\/[^"]+)".*"msg":"wix-registry listening"/.exec(out);
      if (match) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`registry exited before listening:\n${out}`));
    });
  });
  return { child, url, output: () => out, exited };
}

/**
 * The environment of a live-mode registry process for tests: the test app's credentials, the
 * given webhook key, the fake Wix, a database file, any free port on 127.0.0.1 and a fast outbox.
 */
export function liveRegistryEnv(options: {
  appId: string;
  appSecret: string;
  publicKeyPem: string;
  wixUrl: string;
  databasePath: string;
  overrides?: Record<string, string>;
}): Record<string, string> {
  return {
    WIX_APP_ID: options.appId,
    WIX_APP_SECRET: options.appSecret,
    WIX_PUBLIC_KEY: options.publicKeyPem,
    WIX_API_BASE_URL: options.wixUrl,
    DATABASE_URL: options.databasePath,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    OUTBOX_RETRY_BASE_MS: '50',
    OUTBOX_RETRY_CAP_MS: '200',
    OUTBOX_MAX_ATTEMPTS: '1000',
    ...options.overrides,
  };
}
