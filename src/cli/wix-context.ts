import type { Config } from '../config.ts';
import { loadSandboxCredentials, sandboxCredentialsExist, sandboxDirFor } from '../sandbox/credentials.ts';
import { readSandboxRuntime } from '../sandbox/runtime.ts';

export interface CliWix {
  appId: string;
  appSecret: string;
  wixApiBaseUrl: string;
  sandbox: boolean;
}

/**
 * The Wix a CLI command talks to: the configured app and WIX_API_BASE_URL, or in sandbox mode the
 * sandbox's app and the fake Wix the running sandbox server serves (its URL is in
 * data/sandbox/fake-wix.json while it runs). Throws a message for the user when there is none.
 */
export function wixForCli(config: Config): CliWix {
  if (config.mode === 'live')
    return { appId: config.wix!.appId, appSecret: config.wix!.appSecret, wixApiBaseUrl: config.wixApiBaseUrl!, sandbox: false };
  const dir = sandboxDirFor(config.databasePath);
  if (!sandboxCredentialsExist(dir)) throw new Error('sandbox mode, and no sandbox has run here yet: start the registry first (npm start)');
  const { credentials } = loadSandboxCredentials(dir);
  const url = config.wixApiBaseUrl ?? readSandboxRuntime(dir)?.fakeWixUrl;
  if (!url) throw new Error('sandbox mode: the fake Wix runs inside the sandbox server, and it is not running: start it first (npm start)');
  return { appId: credentials.appId, appSecret: credentials.appSecret, wixApiBaseUrl: url, sandbox: true };
}
