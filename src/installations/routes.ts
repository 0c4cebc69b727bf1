import { createRoute } from '@hono/zod-openapi';
import type { TypedResponse } from 'hono';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { installationDetailSchema, installationPageSchema } from '../http/api-schemas.ts';
import { checkInstanceIdParam, instanceIdParamsSchema } from '../http/instance-id.ts';
import { createOpenApiRoutes } from '../http/openapi.ts';
import { apiKeyAccess, BAD_QUERY, errorResponses, LONG_ID, ok, okContent, stringHeader, UNKNOWN_INSTANCE } from '../http/openapi-parts.ts';
import { installationExportQuerySchema, installationListQuerySchema, type InstallationPage } from './query-schemas.ts';
import type { InstallationQueries } from './queries.ts';

const read = apiKeyAccess('read');

const listInstallations = createRoute({
  ...read.operation,
  method: 'get',
  path: '/',
  operationId: 'listInstallations',
  tags: ['Installations'],
  summary: 'List installations',
  description:
    'Newest first by install time unless `sort` / `order` say otherwise; keyset pagination with an opaque `cursor`. Unknown or bad parameters are `400`.',
  request: { query: installationListQuerySchema },
  responses: {
    200: ok('A page of installations.', installationPageSchema),
    ...errorResponses({ 400: BAD_QUERY, ...read.errors }),
  },
});

const exportInstallations = createRoute({
  ...read.operation,
  method: 'get',
  path: '/export',
  operationId: 'exportInstallations',
  tags: ['Installations'],
  summary: 'Export every matching installation',
  description:
    'The same filters and order as the list, no paging: the whole result as a download (`Content-Disposition: attachment`, `Cache-Control: no-store`), streamed page by page.',
  request: { query: installationExportQuerySchema },
  responses: {
    200: okContent(
      'The export, in the requested format.',
      {
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
      {
        'Content-Disposition': stringHeader('`attachment; filename="installations.ndjson"` (or `.csv`).'),
        'Cache-Control': stringHeader('`no-store`.'),
      },
    ),
    ...errorResponses({ 400: BAD_QUERY, ...read.errors }),
  },
});

const getInstallation = createRoute({
  ...read.operation,
  middleware: [...read.operation.middleware, checkInstanceIdParam()],
  method: 'get',
  path: '/{instanceId}',
  operationId: 'getInstallation',
  tags: ['Installations'],
  summary: 'One installation with its event history',
  description: 'The installation and every event stored for it, oldest first by `iat`.',
  request: { params: instanceIdParamsSchema },
  responses: {
    200: ok('The installation and its history.', installationDetailSchema),
    ...errorResponses({ 400: LONG_ID, ...read.errors, 404: UNKNOWN_INSTANCE }),
  },
});

/** GET /v1/installations, /v1/installations/export and /v1/installations/{instanceId}. */
export function createInstallationRoutes(deps: { queries: InstallationQueries }) {
  const routes = createOpenApiRoutes();
  // The page comes from the store already serialized (the list's fast path): its shape is InstallationPage's.
  routes.openapi(listInstallations, async (c) => {
    const json = await deps.queries.listJson(c.req.valid('query'));
    return c.body(json, 200, { 'content-type': 'application/json' }) as unknown as TypedResponse<InstallationPage, 200, 'json'>;
  });
  // Before /{instanceId}, which would otherwise take "export" for an instance id.
  routes.openapi(exportInstallations, async (c) => {
    const { body, contentType, filename } = await deps.queries.exportStream(c.req.valid('query'));
    return c.body(body, 200, {
      'content-type': contentType,
      'content-disposition': `attachment; filename="${filename}"`,
      'cache-control': 'no-store',
    });
  });
  routes.openapi(getInstallation, async (c) => {
    const found = await deps.queries.get(c.req.valid('param').instanceId);
    if (!found) throw new AppError('not_found', 'No installation with that instanceId');
    return c.json(found, 200);
  });
  return routes;
}
