/**
 * Why a call to Wix failed, in the terms callers act on:
 * - unknown_instance / removed_instance: the registry refused without calling Wix;
 * - refused: Wix answered that this cannot succeed (4xx: app not installed, bad credentials…);
 * - unavailable: Wix failed or was rate limited (5xx, 429): worth retrying;
 * - network: no answer (connection refused or dropped, timeout): worth retrying.
 */
export type WixFailureKind = 'unknown_instance' | 'removed_instance' | 'refused' | 'unavailable' | 'network';

export class WixCallError extends Error {
  override name = 'WixCallError';
  /**
   * The message as written here. @wix/sdk's generated modules pass an error thrown by our fetch or
   * auth on as the same object but overwrite its `message` ("System error occurred: …", in
   * @wix/sdk-runtime's transformError); toWixCallError() rebuilds a clean copy from this.
   */
  readonly reason: string;
  constructor(
    readonly kind: WixFailureKind,
    message: string,
    readonly details: { status?: number; retryAfterMs?: number; wixMessage?: string } = {},
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.reason = message;
  }

  get retryable(): boolean {
    return this.kind === 'unavailable' || this.kind === 'network';
  }
}

/** Classifies an HTTP answer from Wix. */
export function wixErrorFromResponse(what: string, status: number, headers: Headers | undefined, body: unknown): WixCallError {
  const wixMessage = typeof (body as { message?: unknown })?.message === 'string' ? (body as { message: string }).message : undefined;
  const retryAfterMs = parseRetryAfter(headers?.get('retry-after') ?? null);
  const kind = status === 429 || status >= 500 ? 'unavailable' : 'refused';
  return new WixCallError(kind, `${what}: Wix answered ${status}${wixMessage ? ` (${wixMessage})` : ''}`, {
    status,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(wixMessage !== undefined ? { wixMessage } : {}),
  });
}

/** Retry-After as delay-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Classifies a call that got no answer (a fetch that threw: refused or dropped connection, timeout). */
export function wixErrorFromThrown(what: string, err: unknown): WixCallError {
  if (err instanceof WixCallError) return err;
  const name = (err as { name?: string } | null)?.name;
  const reason = name === 'TimeoutError' || name === 'AbortError' ? 'timed out' : 'no answer';
  return new WixCallError('network', `${what}: ${reason}`, {}, { cause: err });
}

/**
 * The classified failure behind whatever a @wix/sdk module call threw. Our fetch and auth throw
 * WixCallErrors, which reach the caller with their kind and details intact but their message
 * rewritten by the SDK: this returns a copy with the original message. Anything else (the SDK
 * failing on its own, e.g. an unreadable 200 body) counts as Wix being unavailable: retryable.
 */
export function toWixCallError(what: string, err: unknown): WixCallError {
  if (err instanceof WixCallError) {
    return err.message === err.reason
      ? err
      : new WixCallError(err.kind, err.reason, err.details, err.cause === undefined ? {} : { cause: err.cause });
  }
  return new WixCallError('unavailable', `${what}: ${(err as Error | null)?.message ?? String(err)}`, {}, { cause: err });
}
