import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * The closed set of error codes the registry answers with, and the HTTP status of each. Every
 * error body has the same envelope: { error: { code, message, requestId } }.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  malformed_envelope: 400,
  unauthorized: 401,
  invalid_signature: 401,
  forbidden: 403,
  not_found: 404,
  request_timeout: 408,
  gone: 410,
  payload_too_large: 413,
  too_many_requests: 429,
  internal: 500,
  bad_gateway: 502,
  /** Wix refused a token for the instance (4xx): asking again will not help, unlike bad_gateway. */
  wix_refused: 502,
  unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Extra fields for the log line only, never for the response body. */
  readonly logContext: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; logContext?: Record<string, unknown> } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.logContext = options.logContext;
  }

  get status(): ContentfulStatusCode {
    return ERROR_STATUS[this.code];
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string };
}
