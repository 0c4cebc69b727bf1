import { wixErrorFromThrown } from './errors.ts';

export interface RetryingFetchOptions {
  /** The transport (base URL rewriting, timeout): see createWixFetch. */
  wixFetch: typeof fetch;
  /** Drops the token Wix just rejected. */
  invalidate(rejectedToken: string | undefined): void;
  /** A fresh token after the invalidation. */
  freshToken(): Promise<string>;
  /** Names the calls in errors, e.g. "Wix call for instance <id>". */
  label: string;
}

/**
 * The fetch given to `createClient({ fetch })`: on a 401 from Wix it drops the token, gets a
 * fresh one and retries the call once (the SDK would fail, and its AppStrategy would keep
 * serving the rejected token until its own expiry). Every HTTP answer resolves, the second 401
 * included; no answer rejects with a WixCallError of kind `network`, and a failure to get the
 * fresh token rejects with the broker's own WixCallError.
 */
export function createRetryingFetch(options: RetryingFetchOptions): typeof fetch {
  return async (input, init) => {
    let response: Response;
    try {
      response = await options.wixFetch(input, init);
    } catch (err) {
      throw wixErrorFromThrown(options.label, err);
    }
    if (response.status !== 401) return response;
    await response.body?.cancel().catch(() => undefined); // frees the connection for the retry
    options.invalidate(new Headers(init?.headers).get('authorization') ?? undefined);
    const headers = new Headers(init?.headers);
    headers.set('authorization', await options.freshToken());
    try {
      return await options.wixFetch(input, { ...init, headers });
    } catch (err) {
      throw wixErrorFromThrown(options.label, err);
    }
  };
}
