import type { MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { errorEnvelopeSchema } from './api-schemas.ts';
import type { AppEnv } from './context.ts';
import { requireScope, type ApiScope } from './scopes.ts';

/**
 * The parts every route definition (`createRoute`, next to its handler) is built from: the
 * answers with their headers, the one error envelope, and what an API-key route needs. The
 * document itself is put together from the app's routes in openapi.ts.
 */

export const API_KEY = 'apiKey';
export const WIX_ACCESS_TOKEN = 'wixAccessToken';

const REQUEST_ID_HEADER = { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } };
const RETRY_AFTER_HEADER = {
  'Retry-After': { description: 'Seconds until this client may try again.', schema: { type: 'integer' as const } },
};

/** A response header documented by its description alone (its value is a string). */
export const stringHeader = (description: string) => ({ description, schema: { type: 'string' as const } });
export const NO_STORE_HEADER = { 'Cache-Control': stringHeader('`no-store`.') };

type Headers = Record<string, ReturnType<typeof stringHeader>>;

/** A success answer with a JSON body, and the X-Request-Id header every answer has. */
export function ok<S extends z.ZodType>(description: string, schema: S, headers: Headers = {}) {
  return { description, headers: { ...REQUEST_ID_HEADER, ...headers }, content: { 'application/json': { schema } } };
}

/** A success answer whose body is not JSON: `content` maps each media type to its (string) schema. */
export function okContent<C extends Record<string, { schema: z.ZodType }>>(description: string, content: C, headers: Headers = {}) {
  return { description, headers: { ...REQUEST_ID_HEADER, ...headers }, content };
}

const INTERNAL = '`internal`: an unexpected failure (the log line with the same request id has the details).';

interface ErrorResponse {
  description: string;
  headers: Record<string, unknown>;
  content: { 'application/json': { schema: typeof errorEnvelopeSchema } };
}

/** Error answers, each with the one error envelope (and Retry-After on a 429); a 500 is always among them. */
export function errorResponses(byStatus: Record<number, string>): Record<number, ErrorResponse> {
  return Object.fromEntries(
    Object.entries({ ...byStatus, 500: byStatus[500] ?? INTERNAL }).map(([status, description]) => [
      status,
      {
        description,
        headers: status === '429' ? { ...REQUEST_ID_HEADER, ...RETRY_AFTER_HEADER } : REQUEST_ID_HEADER,
        content: { 'application/json': { schema: errorEnvelopeSchema } },
      },
    ]),
  );
}

export const BAD_QUERY = '`bad_request`: an unknown parameter, or a bad value (the message names each one).';
export const LONG_ID = '`bad_request`: the instance id is longer than 200 characters.';
export const UNKNOWN_INSTANCE = '`not_found`: the registry does not know this instance.';

const UNAUTHORIZED = '`unauthorized`: no `Authorization: Bearer <key>`, or not one of `REGISTRY_API_KEYS`.';
const LOCKED_OUT =
  '`too_many_requests`: this client failed authentication 10 times within a minute; every attempt, with any key, is refused until the minute ends (`Retry-After`).';

/**
 * An API-key route, from the one scope it needs: `operation` goes into its definition (the
 * security requirement, and requireScope before anything else, then `more`); `errors` are the
 * answers every API-key route has besides its own (401, 403 without the scope, 429 after
 * repeated failures). The scope the document names is the scope the route enforces.
 */
export function apiKeyAccess(scope: ApiScope, ...more: MiddlewareHandler<AppEnv>[]) {
  return {
    operation: { security: [{ [API_KEY]: [] }], middleware: [requireScope(scope), ...more] },
    errors: { 401: UNAUTHORIZED, 403: `\`forbidden\`: the key does not have the \`${scope}\` scope.`, 429: LOCKED_OUT },
  };
}
