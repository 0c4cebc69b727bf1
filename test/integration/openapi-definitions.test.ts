import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { tokenHandoutQuerySchema } from '../../src/audit/token-handouts.ts';
import { changesQuerySchema } from '../../src/changes/feed.ts';
import { AppError } from '../../src/errors.ts';
import { assertRoutesDocumented, createOpenApiRoutes, listUndocumentedRoutes } from '../../src/http/openapi.ts';
import { apiKeyAccess, errorResponses, ok } from '../../src/http/openapi-parts.ts';
import { listRouteAccess, requireScope } from '../../src/http/scopes.ts';
import { dailyStatsQuerySchema } from '../../src/installations/daily-stats.ts';
import { installationExportQuerySchema, installationListQuerySchema } from '../../src/installations/query-schemas.ts';
import { parseInput } from '../../src/parse-input.ts';
import { createTestRegistry, TEST_API_KEY, type TestRegistry } from '../helpers/registry.ts';

/**
 * Issue 13: each operation is defined once, next to its handler (createRoute + app.openapi), and
 * the document is generated from the app. These tests show that a route cannot be served without
 * being in the document (createApp refuses to build such an app), that the scope an operation
 * documents is the scope it enforces, and that a request the definition's schemas refuse gets the
 * one error envelope, worded as parseInput (the CLI, the dashboard) words it.
 */

interface Operation {
  security?: Record<string, string[]>[];
  responses: Record<string, { description: string }>;
}

const openApiPath = (honoPath: string) => honoPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const handler = () => new Response('ok');

describe('every route the app serves has an OpenAPI definition', () => {
  let t: TestRegistry;
  let paths: Record<string, Record<string, Operation>>;

  beforeAll(async () => {
    t = await createTestRegistry();
    paths = ((await (await t.app.request('/openapi.json')).json()) as { paths: typeof paths }).paths;
  });
  afterAll(() => t?.close());

  it('the real app leaves nothing out, and each /v1 operation documents the scope its route enforces', () => {
    expect(listUndocumentedRoutes(t.app)).toEqual([]);
    const v1 = listRouteAccess(t.app).filter((route) => route.path.startsWith('/v1/') && route.method !== 'ALL');
    expect(v1.length).toBeGreaterThanOrEqual(9);
    for (const route of v1) {
      const operation = paths[openApiPath(route.path)]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      expect(operation!.security).toEqual([{ apiKey: [] }]);
      expect(operation!.responses['403']?.description, `${route.method} ${route.path}`).toContain(`\`${route.access}\` scope`);
    }
  });

  it('a route added without a definition, hidden, or on a plain Hono sub-app is a build error naming it', () => {
    const app = createOpenApiRoutes();
    const read = apiKeyAccess('read');
    app.openapi(
      createRoute({
        ...read.operation,
        method: 'get',
        path: '/v1/defined',
        responses: { 200: ok('Defined.', z.object({ ok: z.boolean() })), ...errorResponses(read.errors) },
      }),
      (c) => c.json({ ok: true }, 200),
    );
    app.openapi(createRoute({ method: 'get', path: '/v1/hidden', hide: true, responses: { 200: { description: 'Hidden.' } } }), handler);
    app.post('/v1/sneaky', requireScope('read'), handler);
    const plain = new Hono();
    plain.delete('/:id', handler);
    app.route('/v1/plain', plain);
    app.get('/dashboard/page', handler);
    app.get('/docs', handler);
    app.use('/v1/*', async (_c, next) => next());

    expect(listUndocumentedRoutes(app)).toEqual(['GET /v1/hidden', 'POST /v1/sneaky', 'DELETE /v1/plain/{id}']);
    expect(() => assertRoutesDocumented(app)).toThrow(/GET \/v1\/hidden\n {2}POST \/v1\/sneaky\n {2}DELETE \/v1\/plain\/\{id\}/);
  });

  it('definitions on nested sub-apps are copied up with their prefix', () => {
    const things = createOpenApiRoutes();
    things.openapi(
      createRoute({
        method: 'get',
        path: '/{thingId}',
        request: { params: z.object({ thingId: z.string() }) },
        responses: { 200: { description: 'A thing.' } },
      }),
      handler,
    );
    const v1 = createOpenApiRoutes();
    v1.route('/things', things);
    const app = new OpenAPIHono();
    app.route('/v1', v1);
    expect(listUndocumentedRoutes(app)).toEqual([]);
    expect(Object.keys(app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 't', version: '1' } }).paths ?? {})).toEqual([
      '/v1/things/{thingId}',
    ]);
  });
});

describe('a request the definition refuses gets the one error envelope', () => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await createTestRegistry();
  });
  afterAll(() => t?.close());

  async function refused(url: string) {
    const res = await t.app.request(url, { headers: { authorization: `Bearer ${TEST_API_KEY}`, 'x-request-id': 'req-invalid' } });
    expect(res.status, url).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('x-request-id')).toBe('req-invalid');
    return res.json();
  }

  /** What parseInput (the CLI's and the dashboard's parse of the same schema) says for this input. */
  function parseInputMessage(schema: z.ZodType, input: Record<string, string>): string {
    try {
      parseInput(schema, input);
    } catch (err) {
      if (err instanceof AppError) return err.message;
    }
    throw new Error(`${JSON.stringify(input)} parses`);
  }

  it.each([
    ['/v1/installations', installationListQuerySchema, { bogus: '1' }],
    ['/v1/installations', installationListQuerySchema, { limit: '0', status: 'gone' }],
    ['/v1/installations', installationListQuerySchema, { installedFrom: '2026-10-02', installedTo: '2026-10-01' }],
    ['/v1/installations/export', installationExportQuerySchema, { format: 'xml' }],
    ['/v1/stats/daily', dailyStatsQuerySchema, { from: '2026-02-30' }],
    ['/v1/changes', changesQuerySchema, { wait: '61' }],
    ['/v1/audit/token-handouts', tokenHandoutQuerySchema, { key: 'not-a-fingerprint' }],
  ] as [string, z.ZodType, Record<string, string>][])(
    '%s %o: 400 bad_request, worded as parseInput words it',
    async (path, schema, input) => {
      const message = parseInputMessage(schema, input);
      expect(message).not.toBe('');
      expect(await refused(`${path}?${new URLSearchParams(input).toString()}`)).toEqual({
        error: { code: 'bad_request', message, requestId: 'req-invalid' },
      });
    },
  );

  it('a parameter given more than once is refused by name, not used or read as a list', async () => {
    expect(await refused('/v1/installations?limit=1&limit=2&status=active')).toEqual({
      error: { code: 'bad_request', message: 'limit: given more than once', requestId: 'req-invalid' },
    });
    expect(await refused('/v1/changes?after=a&after=b&wait=1&wait=2')).toEqual({
      error: { code: 'bad_request', message: 'after: given more than once; wait: given more than once', requestId: 'req-invalid' },
    });
  });

  it('an instance id over 200 characters is refused before its schema sees it, with its own message', async () => {
    expect(await refused(`/v1/installations/${'x'.repeat(201)}`)).toEqual({
      error: { code: 'bad_request', message: 'instanceId is longer than 200 characters', requestId: 'req-invalid' },
    });
  });
});
