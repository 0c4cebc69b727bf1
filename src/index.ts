/**
 * The package's library API, for internal TypeScript services.
 *
 * In the registry's own process: `startRegistry()` / `createRegistry()`, then
 * `registry.clientFor(instanceId, { appInstances })` for a real @wix/sdk client acting as the
 * app on that instance. In other processes: `createRemoteWixClient()` gets its tokens from the
 * registry's token API and never holds the app secret. For the app's own routes called from its
 * frontend: `wixInstanceAuth()` sets `c.var.instance` from the Wix access token.
 */
export { startRegistry, type RunningRegistry, type StartOptions } from './main.ts';
export { createRegistry, type Registry, type RegistryOptions } from './registry.ts';
export { loadConfig, ConfigError, type Config } from './config.ts';
export { createRemoteWixClient, RegistryTokenError, type RemoteWixClientOptions } from './wix/remote-client.ts';
export { wixInstanceAuth, type InstanceEnv } from './wix/instance-auth.ts';
export { createTokenInfoChecker, type VerifiedInstance } from './wix/token-info.ts';
export { WixCallError, type WixFailureKind } from './wix/errors.ts';
export { createFakeWix, listenLocal, type FakeWix } from './sandbox/fake-wix.ts';
export { signWixWebhook } from './sandbox/webhook-signer.ts';
