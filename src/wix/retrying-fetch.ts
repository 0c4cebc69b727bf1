import { wixErrorFromResponse, wixErrorFromThrown, type WixCallError } from './errors.ts';

export interface RetryingFetchOptions {
  /** The transport (base URL rewriting, timeout): see createWixFetch. */
  wixFetch: typeof fetch;
  /** Drops the token Wix just rejected. */
  invalidate(rejectedToken: string | undefined): void;
  /** A fresh token after the invalidation. */
  freshToken(): Promise<string>;
  /** Told about each failed call, classified (the SDK's own errors often say only "System error occurred"). */
  onFailure?(failure: WixCallError): void;
  label: string;
}

/**
 * The fetch given to `createClient({ fetch })`: on a 401 from Wix it drops the token, gets a
 * fresh one and retries the call once (the SDK would fail, and its AppStrategy would keep
 * serving the rejected token until its own expiry).
 */
export function createRetryingFetch(options: RetryingFetchOptions): typeof fetch {
  return async (input, init) => {
    let response: Response;
    try {
      response = await options.wixFetch(input, init);
      if (response.status === 401) {
        options.invalidate(new Headers(init?.headers).get('authorization') ?? undefined);
        const headers = new Headers(init?.headers);
        headers.set('authorization', await options.freshToken());
        response = await options.wixFetch(input, { ...init, headers });
      }
    } catch (err) {
      options.onFailure?.(wixErrorFromThrown(options.label, err));
      throw err;
    }
    if (!response.ok && options.onFailure) {
      const body: unknown = await response
        .clone()
        .json()
        .catch(() => undefined);
      options.onFailure(wixErrorFromResponse(options.label, response.status, response.headers, body));
    }
    return response;
  };
}
