import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { StorageBusyError, StorageUnavailableError } from '../db/store.ts';
import { AppError, type ErrorBody, type ErrorCode } from '../errors.ts';
import type { AppEnv } from './context.ts';

const STATUS_TO_CODE: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  408: 'request_timeout',
  413: 'payload_too_large',
  429: 'too_many_requests',
  502: 'bad_gateway',
  503: 'unavailable',
};

/**
 * How the request stopped arriving, when it did: the connection closed before the whole request
 * was read, because the server's request timeout fired (Node has already answered 408) or the
 * client went away. Such a failure is the client's, not a 500.
 */
export function incompleteRequest(c: Context): 'timed out' | 'connection closed' | null {
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  if (!incoming || incoming.complete || !(incoming.destroyed || incoming.errored)) return null;
  const socketError = (incoming.socket as { errored?: { code?: string } | null } | undefined)?.errored;
  return socketError?.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'timed out' : 'connection closed';
}

/** The one onError: every failure becomes { error: { code, message, requestId } }. */
export function handleError(err: Error, c: Context<AppEnv>) {
  const requestId = c.get('requestId') ?? 'unknown';
  const logger = c.get('logger');
  let appError: AppError;
  const incomplete = err instanceof AppError ? null : incompleteRequest(c);
  if (err instanceof AppError) {
    appError = err;
  } else if (incomplete) {
    // Nobody reads this answer (the connection is gone); the request log line says what happened.
    appError = new AppError('request_timeout', 'The request did not fully arrive', { logContext: { clientAborted: true, incomplete } });
  } else if (err instanceof StorageBusyError) {
    // Reads queue behind each other; one that waited too long is turned away (webhooks come first).
    c.header('Retry-After', String(err.retryAfterSec));
    appError = new AppError('unavailable', 'The registry is busy; retry shortly');
  } else if (err instanceof StorageUnavailableError) {
    appError = new AppError('unavailable', 'Storage is unavailable; retry later', { cause: err });
  } else if (err instanceof HTTPException) {
    appError = new AppError(
      STATUS_TO_CODE[err.status] ?? 'internal',
      err.status >= 500 ? 'Internal error' : err.message || 'Request failed',
    );
  } else {
    appError = new AppError('internal', 'Internal error', { cause: err });
  }
  c.set('errorCode', appError.code);
  if (appError.status >= 500) {
    // The details go to the log line with the same request id, never to the body.
    logger?.error({ requestId, err: appError.cause ?? err, code: appError.code, ...appError.logContext }, appError.message);
  } else if (appError.logContext) {
    c.set('logFields', { ...c.get('logFields'), ...appError.logContext });
  }
  return c.json(errorBody(appError.code, appError.message, requestId), appError.status);
}

export function errorBody(code: ErrorCode, message: string, requestId: string): ErrorBody {
  return { error: { code, message, requestId } };
}
