import type { RegistryHttp } from './http.js';
import type { Installation, InstallationDetail, InstallationPage, ListInstallationsParams } from './types.js';

export interface InstallationsApi {
  /** One page of GET /v1/installations (newest first by default). */
  list(params?: ListInstallationsParams, options?: { signal?: AbortSignal }): Promise<InstallationPage>;
  /**
   * Every matching installation, each exactly once, following `nextCursor` until it is null
   * (pages that filter without an index can be short, even empty, before the end).
   */
  all(params?: Omit<ListInstallationsParams, 'cursor'>, options?: { signal?: AbortSignal }): AsyncGenerator<Installation, void, undefined>;
  /** One installation with its event history; a RegistryError of kind `unknown_instance` if the registry does not know it. */
  get(instanceId: string, options?: { signal?: AbortSignal }): Promise<InstallationDetail>;
}

export function createInstallationsApi(http: RegistryHttp): InstallationsApi {
  const list: InstallationsApi['list'] = (params = {}, options = {}) =>
    http.json<InstallationPage>({ method: 'GET', path: '/v1/installations', query: { ...params }, signal: options.signal });

  return {
    list,
    async *all(params = {}, options = {}) {
      let cursor: string | undefined;
      do {
        const page = await list({ ...params, ...(cursor !== undefined ? { cursor } : {}) }, options);
        yield* page.items;
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
    },
    get: (instanceId, options = {}) =>
      http.json<InstallationDetail>({
        method: 'GET',
        path: `/v1/installations/${encodeURIComponent(instanceId)}`,
        signal: options.signal,
        instanceId,
      }),
  };
}
