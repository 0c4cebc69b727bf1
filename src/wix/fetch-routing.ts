/**
 * Where @wix/sdk sends every call: a literal inside the SDK that `createClient({ host })` does not
 * move (docs/wix-protocol.md §2). Our own requests are written against it too, then routed.
 */
export const WIX_SDK_ORIGIN = 'https://www.wixapis.com';

/**
 * Upper bound for any one call to Wix, from sending the request to the end of the answer's body.
 * A slower answer counts as no answer (WixCallError kind `network`) and is retried by the outbox.
 */
export const WIX_REQUEST_TIMEOUT_MS = 10_000;

type Fetch = typeof globalThis.fetch;

/** Rewrites an SDK URL onto the configured WIX_API_BASE_URL (which may carry a path prefix). */
export function rewriteWixUrl(url: string, baseUrl: string): string {
  if (baseUrl === WIX_SDK_ORIGIN || !url.startsWith(WIX_SDK_ORIGIN)) return url;
  return baseUrl + url.slice(WIX_SDK_ORIGIN.length);
}

function urlOf(input: Parameters<Fetch>[0]): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
}

/**
 * Aborts after `ms` with a TimeoutError, like AbortSignal.timeout(), but on the global setTimeout:
 * a test can then move past the default 10 s with fake timers instead of waiting for it. The timer
 * is not cleared when the answer arrives (the body is read after we return), only unref'd.
 */
function timeoutSignal(ms: number): AbortSignal {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${ms} ms`, 'TimeoutError')), ms);
  (timer as { unref?: () => void }).unref?.();
  return controller.signal;
}

/**
 * A fetch that sends calls written against WIX_SDK_ORIGIN to `baseUrl` and bounds each with a
 * timeout: the transport under every call the project makes to Wix (its own and the SDK's, given
 * to `createClient({ fetch })`). `fetchImpl` is injected; the default looks up the global fetch at
 * call time and never changes it. Production (base = Wix) passes through untouched but for the
 * timeout. Answers of any status resolve; no answer rejects with fetch's own error.
 */
export function createWixFetch(
  baseUrl: string,
  fetchImpl: Fetch = (...args) => globalThis.fetch(...args),
  timeoutMs = WIX_REQUEST_TIMEOUT_MS,
): Fetch {
  return (input, init) => {
    const url = rewriteWixUrl(urlOf(input), baseUrl);
    const timeout = timeoutSignal(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    if (typeof input === 'string' || input instanceof URL) return fetchImpl(url, { ...init, signal });
    return fetchImpl(new Request(url, input), { ...init, signal });
  };
}
