import type { Logger } from '../logger.ts';
import type { ErrorCode } from '../errors.ts';
import type { ApiScope } from './scopes.ts';

/** Typed context variables shared by every route and middleware. */
export interface AppEnv {
  Variables: {
    requestId: string;
    logger: Logger;
    /** Extra fields a handler wants on the request's log line. */
    logFields: Record<string, unknown>;
    /** Which API key authenticated the request (a short fingerprint, never the key). */
    apiKeyId: string;
    /** What that key may do (requireScope checks it). */
    apiKeyScopes: readonly ApiScope[];
    /** The client's address: the socket's, or a trusted proxy's header (TRUST_PROXY). */
    clientAddress: string;
    /** The error code the request was answered with, set by the one error handler. */
    errorCode: ErrorCode;
  };
}
