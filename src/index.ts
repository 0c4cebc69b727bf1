/**
 * The registry's API for code that runs it in its own process (TypeScript, through tsx: the
 * package exports nothing to plain Node; other services use the wix-registry-client package in
 * client/ instead).
 *
 * `startRegistry()` / `createRegistry()`, then `registry.clientFor(instanceId, { appInstances })`
 * for a real @wix/sdk client acting as the app on that instance. For the app's own routes called
 * from its frontend: `wixInstanceAuth()` sets `c.var.instance` from the Wix access token.
 */
export { startRegistry, type RunningRegistry, type StartOptions } from './main.ts';
export { createRegistry, type Registry, type RegistryOptions } from './registry.ts';
export { loadConfig, ConfigError, type Config } from './config.ts';
export { wixInstanceAuth, type InstanceEnv } from './wix/instance-auth.ts';
export { createTokenInfoChecker, type VerifiedInstance } from './wix/token-info.ts';
export { WixCallError, type WixFailureKind } from './wix/errors.ts';
export { createFakeWix, listenLocal, type FakeWix } from './sandbox/fake-wix.ts';
export { signWixWebhook } from './sandbox/webhook-signer.ts';
