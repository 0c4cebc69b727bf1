import type { Logger } from '../logger.ts';

/** Typed context variables shared by every route and middleware. */
export interface AppEnv {
  Variables: {
    requestId: string;
    logger: Logger;
    /** Extra fields a handler wants on the request's log line. */
    logFields: Record<string, unknown>;
    /** Which API key authenticated the request (a short fingerprint, never the key). */
    apiKeyId: string;
  };
}
