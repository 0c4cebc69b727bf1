import { createRoute } from '@hono/zod-openapi';
import { StorageBusyError, StorageUnavailableError } from '../db/store.ts';
import { AppError } from '../errors.ts';
import { accessTokenSchema } from '../http/api-schemas.ts';
import { checkInstanceIdParam, instanceIdParamsSchema } from '../http/instance-id.ts';
import { createOpenApiRoutes } from '../http/openapi.ts';
import { apiKeyAccess, errorResponses, LONG_ID, NO_STORE_HEADER, ok, UNKNOWN_INSTANCE } from '../http/openapi-parts.ts';
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
        return new AppError('wix_refused', `Wix refused the token request${err.details.status ? ` (HTTP ${err.details.status})` : ''}`, {
          cause: err,
        });
      case 'unavailable':
        return new AppError(
          'bad_gateway',
          `Wix failed to answer the token request${err.details.status ? ` (HTTP ${err.details.status})` : ''}`,
          { cause: err },
        );
      case 'network':
        return new AppError('bad_gateway', 'Wix could not be reached for a token', { cause: err });
    }
  }
  if (err instanceof StorageUnavailableError || err instanceof StorageBusyError)
    return new AppError('unavailable', 'Storage is unavailable', { cause: err });
  return err instanceof AppError ? err : new AppError('internal', 'Internal error', { cause: err });
}

const tokens = apiKeyAccess('tokens', checkInstanceIdParam());

const createAccessToken = createRoute({
  ...tokens.operation,
  method: 'post',
  path: '/{instanceId}/access-token',
  operationId: 'createAccessToken',
  tags: ['Installations'],
  summary: 'A Wix access token for an active installation',
  description:
    'For services that must not hold the app secret. Every request is audited (API key fingerprint, instance, time, outcome, request id; never the token or the key). ' +
    'Unknown and removed instances are refused without calling Wix.',
  request: { params: instanceIdParamsSchema },
  responses: {
    200: ok('A token for the instance.', accessTokenSchema, NO_STORE_HEADER),
    ...errorResponses({
      400: LONG_ID,
      ...tokens.errors,
      404: UNKNOWN_INSTANCE,
      410: '`gone`: the app was removed from this instance.',
      502: '`wix_refused`: Wix refused a token for this instance (4xx; asking again will not help). `bad_gateway`: Wix failed or could not be reached (worth retrying).',
      503: '`unavailable`: the database is unavailable.',
    }),
  },
});

/** POST /v1/installations/{instanceId}/access-token: a token for services that must not hold the app secret. */
export function createAccessTokenRoutes(deps: { handouts: TokenHandouts }) {
  const routes = createOpenApiRoutes();
  routes.openapi(createAccessToken, async (c) => {
    const { instanceId } = c.req.valid('param');
    try {
      const token = await deps.handouts.handOut(instanceId, c.get('apiKeyId'), c.get('requestId'));
      c.header('Cache-Control', 'no-store');
      return c.json({ accessToken: token.token, expiresAt: new Date(token.expiresAt).toISOString() }, 200);
    } catch (err) {
      throw toHttpError(err);
    }
  });
  return routes;
}
