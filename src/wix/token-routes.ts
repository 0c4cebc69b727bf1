import { Hono } from 'hono';
import { StorageBusyError, StorageUnavailableError } from '../db/store.ts';
import { AppError } from '../errors.ts';
import type { AppEnv } from '../http/context.ts';
import { checkInstanceIdParam } from '../http/instance-id.ts';
import { requireScope } from '../http/scopes.ts';
import { WixCallError } from './errors.ts';
import type { TokenHandouts } from './token-handouts.ts';

/**
 * Maps broker failures to the contract's statuses: 404 unknown, 410 removed, 502 Wix refused or failed.
 * The two 502s carry different codes (wix_refused, bad_gateway) so that a caller, such as
 * wix-registry-client, can tell "Wix will not give a token for this instance" from "Wix is down".
 */
export function toHttpError(err: unknown): AppError {
  if (err instanceof WixCallError) {
    switch (err.kind) {
      case 'unknown_instance':
        return new AppError('not_found', 'No installation with that instanceId');
      case 'removed_instance':
        return new AppError('gone', 'The app was removed from this instance');
      case 'refused':
        return new AppError('wix_refused', `Wix refused the token request${err.details.status ? ` (HTTP ${err.details.status})` : ''}`, { cause: err });
      case 'unavailable':
        return new AppError('bad_gateway', `Wix failed to answer the token request${err.details.status ? ` (HTTP ${err.details.status})` : ''}`, { cause: err });
      case 'network':
        return new AppError('bad_gateway', 'Wix could not be reached for a token', { cause: err });
    }
  }
  if (err instanceof StorageUnavailableError || err instanceof StorageBusyError) return new AppError('unavailable', 'Storage is unavailable', { cause: err });
  return err instanceof AppError ? err : new AppError('internal', 'Internal error', { cause: err });
}

/** POST /v1/installations/:instanceId/access-token: a token for services that must not hold the app secret. */
export function createAccessTokenRoutes(deps: { handouts: TokenHandouts }) {
  const routes = new Hono<AppEnv>();
  routes.post('/:instanceId/access-token', requireScope('tokens'), checkInstanceIdParam(), async (c) => {
    const instanceId = c.req.param('instanceId');
    try {
      const token = await deps.handouts.handOut(instanceId, c.get('apiKeyId'), c.get('requestId'));
      c.header('Cache-Control', 'no-store');
      return c.json({ accessToken: token.token, expiresAt: new Date(token.expiresAt).toISOString() });
    } catch (err) {
      throw toHttpError(err);
    }
  });
  return routes;
}
