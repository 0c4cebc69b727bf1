import { createRequire } from 'node:module';
import { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { tokenHandoutQuerySchema } from '../audit/token-handouts.ts';
import { changesQuerySchema } from '../changes/feed.ts';
import { dailyStatsQuerySchema } from '../installations/daily-stats.ts';
import { installationExportQuerySchema, installationListQuerySchema } from '../installations/query-schemas.ts';
import {
  accessTokenSchema,
  appInstanceSchema,
  changePageSchema,
  dailyStatsSchema,
  errorEnvelopeSchema,
  healthSchema,
  installationDetailSchema,
  installationPageSchema,
  sessionsEndedSchema,
  statsSchema,
  tokenHandoutPageSchema,
  webhookAckSchema,
} from './api-schemas.ts';

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the zod schemas the routes validate
 * with (the query schemas of queries.ts and daily-stats.ts, as they are) and from the response
 * schemas of api-schemas.ts. Paths are registered without handlers: the routes stay plain Hono.
 * Served at GET /openapi.json; Swagger UI at GET /docs (src/http/docs.ts).
 */

type OpenApiDocument = ReturnType<OpenAPIHono['getOpenAPI31Document']>;

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const API_KEY = 'apiKey';
const WIX_ACCESS_TOKEN = 'wixAccessToken';
const REQUEST_ID_HEADER = { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } };

const json = (schema: z.ZodType) => ({ 'application/json': { schema } });

function ok(description: string, schema: z.ZodType, headers: Record<string, unknown> = {}) {
  return { description, headers: { ...REQUEST_ID_HEADER, ...headers }, content: json(schema) };
}

const RETRY_AFTER_HEADER = { 'Retry-After': { description: 'Seconds until this client may try again.', schema: { type: 'integer' } } };

/** Error responses, each with the one error envelope (and Retry-After on a 429). */
function errors(byStatus: Record<number, string>) {
  return Object.fromEntries(
    Object.entries({ ...byStatus, 500: byStatus[500] ?? '`internal`: an unexpected failure (the log line with the same request id has the details).' }).map(
      ([status, description]) => [
        status,
        { description, headers: status === '429' ? { ...REQUEST_ID_HEADER, ...RETRY_AFTER_HEADER } : REQUEST_ID_HEADER, content: json(errorEnvelopeSchema) },
      ],
    ),
  );
}

const UNAUTHORIZED_V1 = '`unauthorized`: no `Authorization: Bearer <key>`, or not one of `REGISTRY_API_KEYS`.';
const forbidden = (scope: string) => `\`forbidden\`: the key does not have the \`${scope}\` scope.`;
const LOCKED_OUT =
  '`too_many_requests`: this client failed authentication 10 times within a minute; every attempt, with any key, is refused until the minute ends (`Retry-After`).';
const LONG_ID = '`bad_request`: the instance id is longer than 200 characters.';
/** The answers every API-key route has besides its own: 401, 403 without the scope, 429 after repeated failures. */
const keyed = (scope: string) => ({ 401: UNAUTHORIZED_V1, 403: forbidden(scope), 429: LOCKED_OUT });
const BAD_QUERY = '`bad_request`: an unknown parameter, or a bad value (the message names each one).';

/** Query parameter descriptions, per path (the schemas themselves are shared with the CLI). */
const FILTER_PARAMS: Record<string, string> = {
  status: 'Only installations in this state.',
  plan: '`paid` (Wix says not free, or a paid-plan event named a product), `free` (every other one, including instances Wix has not described yet), or a `vendorProductId`.',
  installedFrom: 'Installed at or after this time (inclusive): an ISO-8601 date (`2026-10-01`, midnight UTC) or a date-time with a zone (`2026-10-01T12:00:00Z`).',
  installedTo: 'Installed before this time (exclusive); same formats as `installedFrom`. Must be later than `installedFrom`.',
  removedFrom: 'Removed at or after this time (inclusive); same formats as `installedFrom`.',
  removedTo: 'Removed before this time (exclusive); must be later than `removedFrom`.',
  q: 'Case-insensitive (ASCII) substring of the site name, the site URL or the instance id.',
  sort: 'The sort key. Under `removedAt`, installations without a removal time come last.',
  order: 'Newest first (`desc`, the default) or oldest first.',
};

const PARAM_DESCRIPTIONS: Record<string, Record<string, string>> = {
  '/v1/installations': {
    ...FILTER_PARAMS,
    limit: 'Installations per page, 1–500.',
    cursor: "Opaque: the previous page's `nextCursor`, sent with the same `sort` and `order`.",
  },
  '/v1/installations/export': {
    ...FILTER_PARAMS,
    format: '`ndjson` (one Installation as JSON per line, every value exact) or `csv` (RFC 4180, flat columns, a header row; text that starts like a formula gets a leading `\'`).',
  },
  '/v1/audit/token-handouts': {
    instanceId: 'Only requests for this instance.',
    key: "Only requests made with this API key: its fingerprint (`key_` and 12 hex digits), as the audit and the request log show it. Never the key itself.",
    outcome: 'Only requests answered this way.',
    since: 'Requested at or after this time (inclusive): an ISO-8601 date (midnight UTC) or a date-time with a zone.',
    until: 'Requested before this time (exclusive); same formats as `since`. Must be later than `since`.',
    limit: 'Rows per page, 1–500.',
    cursor: "Opaque: the previous page's `nextCursor`, sent with the same filters.",
  },
  '/v1/changes': {
    after: "Opaque: a `nextCursor` this feed returned. Without it, from the first change.",
    limit: 'Changes per page, 1–1000.',
    wait: 'Seconds (0–60) to hold the request open when there is nothing after `after`: it is answered as soon as a change commits, or with an empty page when the wait ends.',
  },
  '/v1/stats/daily': {
    from: 'The first UTC day (YYYY-MM-DD), inclusive. Default: 30 days before `to`.',
    to: 'The UTC day after the last one (YYYY-MM-DD), exclusive. Default: tomorrow, so the window ends with today. At most 366 days after `from`.',
  },
};

const instanceIdParams = z.object({ instanceId: z.string().min(1).max(200).meta({ description: 'The Wix app instance id.' }) });

export function createOpenApiDocument(): OpenApiDocument {
  const api = new OpenAPIHono();
  const registry = api.openAPIRegistry;

  registry.registerComponent('securitySchemes', API_KEY, {
    type: 'http',
    scheme: 'bearer',
    description:
      'One of the keys in `REGISTRY_API_KEYS`: `Authorization: Bearer <key>`. Keys are compared in constant time. A key has every scope, or those its entry names ' +
      '(`<key>:read+tokens`): `read` for every GET, `tokens` for access tokens, `admin` for changes.',
  });
  registry.registerComponent('securitySchemes', WIX_ACCESS_TOKEN, {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description:
      "The site's Wix access token, as the app's frontend sends it with `fetchWithAuth()` (`Authorization: <token>`; `Bearer <token>` is accepted too). Checked with Wix's token-info.",
  });
  registry.registerComponent('headers', 'X-Request-Id', {
    description: "The request's id (an incoming `X-Request-Id` is kept); error bodies carry it as `error.requestId`.",
    schema: { type: 'string' },
  });

  registry.registerPath({
    method: 'post',
    path: '/webhooks/wix',
    operationId: 'receiveWixWebhook',
    tags: ['Webhooks'],
    summary: "Receive a Wix webhook (App Installed, App Removed, plan and other app-instance events)",
    description:
      'The body is the raw JWT Wix sends (any content type). In order: size limit, signature (RS256 with the app\'s public key), envelope, one durable write. ' +
      'Nothing is written for a delivery that fails any step, and Wix is never called while the request is open. Every `200` means the delivery is on disk.',
    request: {
      body: { required: true, description: 'The signed JWT, as Wix sends it.', content: { 'text/plain': { schema: z.string().meta({ description: 'A JWT (RS256).' }) } } },
    },
    responses: {
      200: ok('`accepted`: verified and stored for the first time (any event type, known or not). `duplicate`: this exact JWT is already stored (a Wix resend).', webhookAckSchema),
      ...errors({
        400: '`malformed_envelope`: verified, but `data` is not the JSON string Wix sends, `eventType` or `instanceId` is missing, `iat` is missing or not a representable time, or the inner `data` / `identity` are not JSON strings of objects.',
        401: '`invalid_signature`: does not verify: wrong key, altered payload, `alg` other than RS256, expired (`exp`, 60 s tolerance), not yet valid (`nbf`), a signature not in canonical base64url, not a JWT, empty body.',
        413: '`payload_too_large`: body over 64 KiB (checked before anything else).',
        503: '`unavailable`: the database cannot take the write (locked, read-only, full): nothing was stored, Wix resends.',
      }),
    },
  });

  const v1 = { security: [{ [API_KEY]: [] }] };

  registry.registerPath({
    ...v1,
    method: 'get',
    path: '/v1/installations',
    operationId: 'listInstallations',
    tags: ['Installations'],
    summary: 'List installations',
    description: 'Newest first by install time unless `sort` / `order` say otherwise; keyset pagination with an opaque `cursor`. Unknown or bad parameters are `400`.',
    request: { query: installationListQuerySchema },
    responses: {
      200: ok('A page of installations.', installationPageSchema),
      ...errors({ 400: BAD_QUERY, ...keyed('read') }),
    },
  });

  registry.registerPath({
    ...v1,
    method: 'get',
    path: '/v1/installations/export',
    operationId: 'exportInstallations',
    tags: ['Installations'],
    summary: 'Export every matching installation',
    description: 'The same filters and order as the list, no paging: the whole result as a download (`Content-Disposition: attachment`, `Cache-Control: no-store`), streamed page by page.',
    request: { query: installationExportQuerySchema },
    responses: {
      200: {
        description: 'The export, in the requested format.',
        headers: {
          ...REQUEST_ID_HEADER,
          'Content-Disposition': { description: '`attachment; filename="installations.ndjson"` (or `.csv`).', schema: { type: 'string' } },
          'Cache-Control': { description: '`no-store`.', schema: { type: 'string' } },
        },
        content: {
          'application/x-ndjson': {
            schema: z.string().meta({ description: 'One Installation (see the Installation schema) as JSON per line.' }),
          },
          'text/csv': {
            schema: z.string().meta({
              description:
                'A header row, then one row per installation: instanceId, appId, status, installedAt, removedAt, updatedAt, originInstanceId, configuredAt, siteId, siteName, siteUrl, planVendorProductId, planCycle, isFree, appVersion.',
            }),
          },
        },
      },
      ...errors({ 400: BAD_QUERY, ...keyed('read') }),
    },
  });

  registry.registerPath({
    ...v1,
    method: 'get',
    path: '/v1/installations/{instanceId}',
    operationId: 'getInstallation',
    tags: ['Installations'],
    summary: 'One installation with its event history',
    description: 'The installation and every event stored for it, oldest first by `iat`.',
    request: { params: instanceIdParams },
    responses: {
      200: ok('The installation and its history.', installationDetailSchema),
      ...errors({ 400: LONG_ID, ...keyed('read'), 404: '`not_found`: the registry does not know this instance.' }),
    },
  });

  registry.registerPath({
    ...v1,
    method: 'post',
    path: '/v1/installations/{instanceId}/access-token',
    operationId: 'createAccessToken',
    tags: ['Installations'],
    summary: 'A Wix access token for an active installation',
    description:
      'For services that must not hold the app secret. Every request is audited (API key fingerprint, instance, time, outcome, request id; never the token or the key). ' +
      'Unknown and removed instances are refused without calling Wix.',
    request: { params: instanceIdParams },
    responses: {
      200: ok('A token for the instance.', accessTokenSchema, { 'Cache-Control': { description: '`no-store`.', schema: { type: 'string' } } }),
      ...errors({
        400: LONG_ID,
        ...keyed('tokens'),
        404: '`not_found`: the registry does not know this instance.',
        410: '`gone`: the app was removed from this instance.',
        502: '`wix_refused`: Wix refused a token for this instance (4xx; asking again will not help). `bad_gateway`: Wix failed or could not be reached (worth retrying).',
        503: '`unavailable`: the database is unavailable.',
      }),
    },
  });

  registry.registerPath({
    ...v1,
    method: 'get',
    path: '/v1/stats',
    operationId: 'getStats',
    tags: ['Stats'],
    summary: 'Installation and outbox counts, push endpoint health',
    responses: {
      200: ok('Installations per status, outbox jobs per state (pushes of changes included), and each push endpoint.', statsSchema),
      ...errors(keyed('read')),
    },
  });

  registry.registerPath({
    ...v1,
    method: 'get',
    path: '/v1/changes',
    operationId: 'listChanges',
    tags: ['Changes'],
    summary: 'Follow every installation change, in commit order (long-poll with `wait`)',
    description:
      'Pages through the change feed: installs, removals, plan changes, site updates and configurations, each recorded in the transaction that made it. ' +
      'Continue with `after=<nextCursor>`: nothing is skipped and nothing repeated, across restarts too. With `wait`, a request that has nothing to return is held until a change commits.',
    request: { query: changesQuerySchema },
    responses: {
      200: ok('Changes after `after`, oldest first (empty when the wait ended with none).', changePageSchema),
      ...errors({ 400: `${BAD_QUERY} Also an \`after\` this feed did not hand out.`, ...keyed('read') }),
    },
  });

  registry.registerPath({
    ...v1,
    method: 'get',
    path: '/v1/stats/daily',
    operationId: 'getDailyStats',
    tags: ['Stats'],
    summary: 'Installs, removals, active installations and churn per UTC day',
    description: '`from` inclusive, `to` exclusive, both UTC days; 30 days ending today by default, at most 366.',
    request: { query: dailyStatsQuerySchema },
    responses: {
      200: ok('One entry per day of the window, and the churn of its installs.', dailyStatsSchema),
      ...errors({ 400: `${BAD_QUERY} Also an empty window (\`to\` not after \`from\`) or one longer than 366 days.`, ...keyed('read') }),
    },
  });

  registry.registerPath({
    ...v1,
    method: 'get',
    path: '/v1/audit/token-handouts',
    operationId: 'listTokenHandouts',
    tags: ['Admin'],
    summary: 'The token audit: who was handed an access token for which instance, and when',
    description:
      'One row per `POST /v1/installations/{instanceId}/access-token`, newest first: the key fingerprint, the instance, the time, the outcome and the request id; never the token. ' +
      'Needs the `admin` scope. Keyset pagination with an opaque `cursor`.',
    request: { query: tokenHandoutQuerySchema },
    responses: {
      200: ok('A page of the audit.', tokenHandoutPageSchema, { 'Cache-Control': { description: '`no-store`.', schema: { type: 'string' } } }),
      ...errors({ 400: BAD_QUERY, ...keyed('admin') }),
    },
  });

  registry.registerPath({
    ...v1,
    method: 'delete',
    path: '/v1/dashboard-sessions',
    operationId: 'endDashboardSessions',
    tags: ['Admin'],
    summary: 'End every dashboard session',
    description:
      'Every open dashboard session ends: its cookie opens nothing from then on, in this process at once and in other processes (replicas) within 5 s. ' +
      'As `wix-registry sessions revoke --all`. Needs the `admin` scope.',
    responses: {
      200: ok('How many sessions were ended.', sessionsEndedSchema),
      ...errors(keyed('admin')),
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/app/instance',
    operationId: 'getAppInstance',
    tags: ['App frontend'],
    summary: "The installation behind the frontend's Wix access token",
    description:
      "For the app's own frontend (site widget, settings panel, dashboard page). The token is checked with Wix's token-info: it must be active, issued to this app " +
      '(`clientId` = `WIX_APP_ID`) and name an instance. Token-info answers are cached for 60 s at most and never past the token\'s `exp`. CORS allows `CORS_ORIGINS`.',
    security: [{ [WIX_ACCESS_TOKEN]: [] }],
    responses: {
      200: ok('The installation (with its status if removed).', appInstanceSchema),
      ...errors({
        401: '`unauthorized`: no token, or Wix says it is not active, not issued to this app, or names no instance.',
        404: '`not_found`: the registry does not know the instance.',
        429: '`too_many_requests`: this client sent more requests this minute than `APP_INSTANCE_RATE_LIMIT` allows (120 by default); `Retry-After` says when to try again.',
        502: '`bad_gateway`: Wix could not be asked.',
      }),
    },
  });

  registry.registerPath({
    ...v1,
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    tags: ['Metrics'],
    summary: 'Prometheus metrics',
    description: 'The Prometheus text exposition format: webhooks, latency, group commits, outbox, tokens, installations, HTTP requests and the process. Needs the `read` scope.',
    responses: {
      200: {
        description: 'Every metric, in the Prometheus text format (version 0.0.4).',
        headers: REQUEST_ID_HEADER,
        content: { 'text/plain': { schema: z.string().meta({ description: 'Prometheus text exposition format.' }) } },
      },
      ...errors(keyed('read')),
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/healthz',
    operationId: 'healthz',
    tags: ['Health'],
    summary: 'Liveness',
    responses: { 200: ok('The process runs.', healthSchema) },
  });

  registry.registerPath({
    method: 'get',
    path: '/readyz',
    operationId: 'readyz',
    tags: ['Health'],
    summary: 'Readiness',
    responses: {
      200: ok('The database is open and migrated.', healthSchema),
      503: { description: 'Not ready: starting, or shutting down. The body is `{"status":"starting"}`, not an error envelope.', headers: REQUEST_ID_HEADER, content: json(healthSchema) },
    },
  });

  const document = api.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'wix-registry',
      version,
      description:
        'The installation registry for Wix apps. Every error, everywhere, is `{ "error": { "code", "message", "requestId" } }`; the request id is also the ' +
        '`X-Request-Id` response header (an incoming `X-Request-Id` is kept). A 5xx body says nothing about internals. Times are ISO-8601 in UTC.',
      license: { name: 'MIT', url: 'https://opensource.org/license/mit' },
    },
    tags: [
      { name: 'Webhooks', description: "Wix's app-instance webhooks, verified with the app's public key." },
      { name: 'Installations', description: 'Needs `Authorization: Bearer <key>` from `REGISTRY_API_KEYS`, with the `read` scope (access tokens: `tokens`).' },
      { name: 'Stats', description: 'Needs `Authorization: Bearer <key>` from `REGISTRY_API_KEYS`, with the `read` scope.' },
      { name: 'Metrics', description: 'Needs `Authorization: Bearer <key>` from `REGISTRY_API_KEYS`, with the `read` scope.' },
      { name: 'Admin', description: 'Needs `Authorization: Bearer <key>` from `REGISTRY_API_KEYS`, with the `admin` scope.' },
      { name: 'App frontend', description: "Called by the app's own frontend with the site's Wix access token." },
      { name: 'Health', description: 'For load balancers and orchestrators.' },
    ],
  });
  describeQueryParameters(document);
  return document;
}

/** Adds each query parameter's description (generated from the route's own schema, which has none). */
function describeQueryParameters(document: OpenApiDocument): void {
  for (const [path, descriptions] of Object.entries(PARAM_DESCRIPTIONS)) {
    for (const parameter of document.paths?.[path]?.get?.parameters ?? []) {
      if ('$ref' in parameter || parameter.in !== 'query') continue;
      const description = descriptions[parameter.name];
      if (description) parameter.description = description;
    }
  }
}

let cached: string | undefined;

/** The document as JSON, generated on first use and kept (it never changes while the process runs). */
export function openApiJson(): string {
  cached ??= JSON.stringify(createOpenApiDocument());
  return cached;
}
