/**
 * wix-registry-client: what a Wix app's other services need from its wix-registry.
 *
 *   const registry = createRegistryClient({ url, apiKey });
 *   const wix = registry.wixClient(instanceId, { appInstances });   // a real @wix/sdk client
 *   for await (const { change, cursor } of registry.changes({ after: saved })) { … }
 *   for await (const installation of registry.installations.all({ status: 'active' })) { … }
 */
export { createRegistryClient, type RegistryClient, type RegistryClientOptions } from './registry-client.js';
export { RegistryError, type RegistryErrorDetails, type RegistryFailureKind } from './errors.js';
export { CHANGES_POLL_GRACE_MS, CHANGES_WAIT_SECONDS, type ChangeEntry, type FollowChangesOptions } from './changes.js';
export { CHANGES_RETRY_BASE_MS, CHANGES_RETRY_CAP_MS, RETRY_AFTER_LIMIT_MS, retryDelayMs, type BackoffPolicy } from './backoff.js';
export { REGISTRY_REQUEST_TIMEOUT_MS, type Clock, type Fetch } from './http.js';
export type { InstallationsApi } from './installations.js';
export { TOKEN_REFRESH_MARGIN_MS, TOKEN_CACHE_MAX_ENTRIES } from './token-cache.js';
export { WIX_API_ORIGIN, WIX_REQUEST_TIMEOUT_MS, type InstanceWixClient, type RegistryTokenAuth } from './wix-client.js';
export type {
  AccessToken,
  Change,
  ChangePage,
  ChangeType,
  Installation,
  InstallationDetail,
  InstallationEvent,
  InstallationPage,
  InstallationPlan,
  InstallationSite,
  InstallationStatus,
  ListInstallationsParams,
  TimeParam,
} from './types.js';
