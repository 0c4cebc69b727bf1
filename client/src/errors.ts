/**
 * Why a call to the registry (or, through it, to Wix) failed, in the terms a caller acts on:
 * - `unknown_instance`: the registry does not know the instance (404);
 * - `removed_instance`: the app was removed from the instance (410); no token will come;
 * - `refused`: Wix refused a token for the instance (registry 502 `wix_refused`); asking again will not help;
 * - `unavailable`: the registry or Wix failed (5xx, including 502 when Wix failed, 503), or asked
 *   to slow down (429, with `retryAfterMs`): worth retrying;
 * - `network`: no answer from the registry (connection refused or dropped, timeout): worth retrying;
 * - `unauthorized`: the API key is missing, wrong, or lacks the scope (401, 403);
 * - `bad_request`: the registry rejected a parameter (400, e.g. a cursor from another sort order);
 * - `not_found`: no such route (404 outside an instance: a registry too old for the call).
 */
export type RegistryFailureKind =
  'unknown_instance' | 'removed_instance' | 'refused' | 'unavailable' | 'network' | 'unauthorized' | 'bad_request' | 'not_found';

export interface RegistryErrorDetails {
  /** The registry's HTTP status, when it answered. */
  status?: number;
  /** The registry's error code (`not_found`, `gone`, `wix_refused`, `bad_gateway`, …), when it answered one. */
  code?: string;
  /** The registry's request id: the registry's log line with the same id says more. */
  requestId?: string;
  /** From a Retry-After header. */
  retryAfterMs?: number;
  instanceId?: string;
  cause?: unknown;
}

export class RegistryError extends Error {
  static {
    // On the prototype, so that the stack trace, captured in Error's constructor, names it too.
    this.prototype.name = 'RegistryError';
  }

  declare readonly kind: RegistryFailureKind;
  declare readonly status: number | undefined;
  declare readonly code: string | undefined;
  declare readonly requestId: string | undefined;
  declare readonly retryAfterMs: number | undefined;
  declare readonly instanceId: string | undefined;

  constructor(kind: RegistryFailureKind, message: string, details: RegistryErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    // @wix/* modules pass anything a call throws (our token failures included) through
    // @wix/sdk-runtime's transformError, which Object.assign()s a new message ("System error
    // occurred: …"), status and code onto the very same error object. These fields are
    // accessors whose setters ignore that, so an error caught around an SDK call still says
    // what the registry said.
    fixFields(this, {
      kind,
      message,
      status: details.status,
      code: details.code,
      requestId: details.requestId,
      retryAfterMs: details.retryAfterMs,
      instanceId: details.instanceId,
    });
  }

  /** Worth trying again later: the registry or Wix failed or was unreachable, not refused. */
  get retryable(): boolean {
    return this.kind === 'unavailable' || this.kind === 'network';
  }
}

function fixFields(target: object, values: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(values)) {
    Object.defineProperty(target, key, {
      get: () => value,
      set: () => {},
      enumerable: key !== 'message',
      configurable: true,
    });
  }
}

/** Retry-After as delay-seconds or an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
