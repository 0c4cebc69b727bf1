import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { tokenHandoutQuerySchema } from '../../src/audit/token-handouts.ts';
import { changesQuerySchema } from '../../src/changes/feed.ts';
import { dailyStatsQuerySchema } from '../../src/installations/daily-stats.ts';
import { installationExportQuerySchema, installationListQuerySchema } from '../../src/installations/query-schemas.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { createTestRegistry, fromClient, TEST_API_KEY, type TestRegistry } from '../helpers/registry.ts';

/**
 * GET /openapi.json against the real app: the document is valid OpenAPI 3.1, it documents every
 * route the app serves (and nothing it does not), and live answers, happy and failing, match the
 * schema the document gives for their status. Answers are checked against a closed copy of the
 * schemas (no property the document does not name), so a field added to a body without being
 * documented fails here.
 */

// ajv-formats is CommonJS with `exports.default`: under NodeNext its default import is the module.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

type Json = Record<string, unknown>;
interface MediaType {
  schema?: Json;
}
interface ResponseObject {
  description: string;
  content?: Record<string, MediaType>;
}
interface Operation {
  operationId: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; description?: string; required?: boolean }[];
  responses: Record<string, ResponseObject>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json>; securitySchemes: Record<string, Json> };
}

const DAY = 86_400_000;
const READ_KEY = 'openapi-read-only-key-0123456789';
const TOKENS_KEY = 'openapi-tokens-only-key-0123456789';
const COMPONENTS_ID = 'urn:wix-registry:components';

/** Every object schema that names its properties gets additionalProperties: false (test-only). */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === 'example' ? v : closed(v)]));
  if (out.properties && !('additionalProperties' in out)) out.additionalProperties = false;
  return out;
}

/** Local refs (#/components/schemas/X) pointed at the components schema registered in ajv. */
const retarget = (schema: unknown): unknown =>
  JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', `"${COMPONENTS_ID}#/$defs/`));

const openApiPath = (honoPath: string) => honoPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('OpenAPI document at GET /openapi.json', () => {
  let wix: RunningFakeWix;
  let t: TestRegistry;
  let doc: Document;
  let ajv: Ajv2020;
  const validators = new Map<string, ValidateFunction>();
  /** "METHOD path status" of each documented answer seen live. */
  const seen = new Set<string>();
  const nowSec = () => Math.floor(t.clock.now() / 1000);

  beforeAll(async () => {
    wix = await startFakeWix();
    t = await createTestRegistry({
      wixApiBaseUrl: wix.url,
      now: Date.now(),
      apiKeys: [TEST_API_KEY, `${READ_KEY}:read`, `${TOKENS_KEY}:tokens`].map((entry) => {
        const [key, scope] = entry.split(':') as [string, 'read' | 'tokens' | undefined];
        return scope ? { key, scopes: [scope] } : key;
      }),
      appInstanceRateLimitPerMinute: 5,
    });
    const deliver = async (webhook: Parameters<TestRegistry['signer']['sign']>[0]) =>
      expect((await t.deliver(await t.signer.sign(webhook))).status).toBe(200);
    const iat = nowSec() - 3_600;
    await deliver({
      eventType: 'AppInstalled',
      instanceId: 'oa-active',
      iat,
      data: { appId: 'app-1', originInstanceId: 'oa-origin' },
      accountInfo: { accountId: 'acc-1', siteId: 'site-1' },
    });
    await deliver({
      eventType: 'PaidPlanPurchased',
      instanceId: 'oa-active',
      iat: iat + 60,
      data: { vendorProductId: 'premium', cycle: 'YEARLY', expiresOn: '2027-10-01T00:00:00.000Z' },
    });
    await deliver({
      eventType: 'InvoiceStatusUpdated',
      instanceId: 'oa-active',
      iat: iat + 90,
      identity: { identityType: 'WIX_USER', wixUserId: 'u-1' },
    });
    await deliver({ eventType: 'AppInstalled', instanceId: 'oa-removed', iat: iat + 100 });
    await deliver({ eventType: 'AppRemoved', instanceId: 'oa-removed', iat: iat + 200 });
    await deliver({ eventType: 'AppInstalled', instanceId: 'oa-removed', iat: iat + 10 }); // an old resend: stale
    await deliver({ eventType: 'AppInstalled', instanceId: 'oa-bare', iat: iat + 300 });
    // The outbox: APP_FINISHED_CONFIGURATION and the site sync, so the installations have site fields.
    for (let i = 0; i < 10 && (await t.registry.outbox.worker.runDue()) > 0; i++);

    const res = await t.app.request('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    doc = (await res.json()) as Document;

    ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
    addFormats(ajv);
    ajv.addKeyword('example'); // OpenAPI's annotation; JSON Schema has `examples`
    ajv.addSchema({ $id: COMPONENTS_ID, $defs: retarget(closed(doc.components.schemas)) as Json });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await wix?.close();
  });

  /** The answer's status is documented for the operation, and its JSON body matches that status's schema. */
  async function expectDocumented(res: Response, method: string, path: string): Promise<unknown> {
    const operation = doc.paths[path]?.[method.toLowerCase()];
    expect(operation, `${method} ${path} is in the document`).toBeDefined();
    const response = operation!.responses[String(res.status)];
    expect(response, `${method} ${path} documents status ${res.status}`).toBeDefined();
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const documented = response!.content?.[mediaType];
    expect(documented, `${method} ${path} ${res.status} documents ${mediaType}`).toBeDefined();
    seen.add(`${method} ${path} ${res.status}`);
    if (mediaType !== 'application/json') return res.text();
    const body = await res.json();
    const key = `${method} ${path} ${res.status}`;
    let validate = validators.get(key);
    if (!validate) validators.set(key, (validate = ajv.compile(closed(retarget(documented!.schema)) as Json)));
    expect(validate(body) ? [] : validate.errors, `${key}: ${JSON.stringify(body)}`).toEqual([]);
    return body;
  }

  const api = (path: string, init: RequestInit = {}) => t.api(path, init);
  const anonymous = async (path: string, init: RequestInit = {}) => t.app.request(path, init);
  const badKey = async (path: string, init: RequestInit = {}) =>
    t.app.request(path, { ...init, headers: { authorization: 'Bearer not-the-key-0123456789' } });

  it('is a valid OpenAPI 3.1 document whose schemas all compile under JSON Schema 2020-12', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Json);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    for (const name of Object.keys(doc.components.schemas)) expect(ajv.getSchema(`${COMPONENTS_ID}#/$defs/${name}`), name).toBeDefined();
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'Installation',
        'Event',
        'InstallationPage',
        'InstallationDetail',
        'AccessToken',
        'Stats',
        'PushEndpointStatus',
        'DailyStats',
        'Change',
        'ChangePage',
        'AppInstance',
        'WebhookAck',
        'ErrorEnvelope',
        'Health',
      ]),
    );
  });

  it('is built once and served as the same bytes, without an API key', async () => {
    const a = await (await anonymous('/openapi.json')).text();
    const b = await (await anonymous('/openapi.json')).text();
    expect(a).toBe(b);
    expect(a).not.toContain(TEST_API_KEY);
  });

  it('documents every route the app serves, and only those', () => {
    const undocumented = new Set(['GET /openapi.json', 'GET /docs', 'GET /docs/assets/{file}']);
    const served = new Set(
      t.app.routes
        .filter((r) => r.method !== 'ALL' && !r.path.startsWith('/dashboard'))
        .map((r) => `${r.method} ${openApiPath(r.path)}`)
        .filter((r) => !undocumented.has(r)),
    );
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)),
    );
    expect([...served].filter((r) => r.includes(' /v1/')).length).toBeGreaterThanOrEqual(6);
    expect([...documented].sort()).toEqual([...served].sort());
  });

  it('puts the API key on /v1/* and /metrics only, and an error envelope on every error status', () => {
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const keyed = path.startsWith('/v1/') || path === '/metrics';
        if (keyed) expect(op.security, `${method} ${path}`).toEqual([{ apiKey: [] }]);
        else expect(op.security ?? [], `${method} ${path}`).not.toContainEqual({ apiKey: [] });
        if (keyed) expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403', '429']));
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) < 400 || path === '/readyz') continue;
          expect(response.content?.['application/json']?.schema, `${method} ${path} ${status}`).toEqual({
            $ref: '#/components/schemas/ErrorEnvelope',
          });
        }
      }
    }
  });

  it.each([
    ['/v1/installations', installationListQuerySchema],
    ['/v1/installations/export', installationExportQuerySchema],
    ['/v1/stats/daily', dailyStatsQuerySchema],
    ['/v1/audit/token-handouts', tokenHandoutQuerySchema],
    ['/v1/changes', changesQuerySchema],
  ] as [string, z.ZodObject][])(
    '%s: the query parameters are those of the schema the route validates with, each described',
    (path, schema) => {
      const parameters = doc.paths[path]!.get!.parameters ?? [];
      expect(parameters.map((p) => p.name).sort()).toEqual(Object.keys(schema.shape).sort());
      for (const p of parameters) {
        expect(p.in).toBe('query');
        expect(p.required).toBe(false);
        expect(p.description, `${path} ${p.name}`).toBeTruthy();
      }
    },
  );

  it('POST /webhooks/wix: 200 accepted and duplicate, 400, 401, 413', async () => {
    const path = '/webhooks/wix';
    const jwt = await t.signer.sign({ eventType: 'AppInstalled', instanceId: 'oa-webhook', iat: nowSec() });
    expect(await expectDocumented(await t.deliver(jwt), 'POST', path)).toEqual({ status: 'accepted' });
    expect(await expectDocumented(await t.deliver(jwt), 'POST', path)).toEqual({ status: 'duplicate' });
    const noInstance = await new SignJWT({ data: JSON.stringify({ eventType: 'AppInstalled', data: '{}' }) })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuedAt(nowSec())
      .setExpirationTime(nowSec() + 600)
      .sign(t.signer.privateKey);
    expect(await expectDocumented(await t.deliver(noInstance), 'POST', path)).toMatchObject({ error: { code: 'malformed_envelope' } });
    expect(await expectDocumented(await t.deliver('not.a.jwt'), 'POST', path)).toMatchObject({ error: { code: 'invalid_signature' } });
    expect(await expectDocumented(await t.deliver(''), 'POST', path)).toMatchObject({ error: { code: 'invalid_signature' } });
    expect(await expectDocumented(await t.deliver('x'.repeat(65 * 1024)), 'POST', path)).toMatchObject({
      error: { code: 'payload_too_large' },
    });
  });

  it('GET /v1/installations: 200 (pages, filters), 400, 401', async () => {
    const path = '/v1/installations';
    const first = (await expectDocumented(await api(`${path}?limit=2`), 'GET', path)) as { items: unknown[]; nextCursor: string | null };
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    const rest = (await expectDocumented(await api(`${path}?limit=2&cursor=${first.nextCursor}`), 'GET', path)) as {
      nextCursor: string | null;
    };
    expect(rest.nextCursor).toBeNull();
    for (const qs of ['status=removed', 'plan=paid&sort=updatedAt&order=asc', `installedFrom=2020-01-01&q=oa-`, 'sort=removedAt']) {
      await expectDocumented(await api(`${path}?${qs}`), 'GET', path);
    }
    for (const qs of ['limit=0', 'bogus=1', 'installedFrom=yesterday', 'cursor=%21%21']) {
      expect(await expectDocumented(await api(`${path}?${qs}`), 'GET', path)).toMatchObject({ error: { code: 'bad_request' } });
    }
    await expectDocumented(await anonymous(path), 'GET', path);
    await expectDocumented(await badKey(path), 'GET', path);
  });

  it('GET /v1/installations/export: ndjson lines are Installations, csv is text/csv; 400, 401', async () => {
    const path = '/v1/installations/export';
    const ndjson = (await expectDocumented(await api(path), 'GET', path)) as string;
    const installation = ajv.getSchema(`${COMPONENTS_ID}#/$defs/Installation`)!;
    const lines = ndjson.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) expect(installation(JSON.parse(line)) ? [] : installation.errors).toEqual([]);
    const csv = (await expectDocumented(await api(`${path}?format=csv&status=active`), 'GET', path)) as string;
    expect(csv.split('\r\n')[0]).toContain('instanceId');
    expect(await expectDocumented(await api(`${path}?format=xml`), 'GET', path)).toMatchObject({ error: { code: 'bad_request' } });
    await expectDocumented(await anonymous(path), 'GET', path);
  });

  it('GET /v1/installations/{instanceId}: 200 with events, 404, 401', async () => {
    const path = '/v1/installations/{instanceId}';
    for (const id of ['oa-active', 'oa-removed', 'oa-bare']) {
      const body = (await expectDocumented(await api(`/v1/installations/${id}`), 'GET', path)) as { events: { outcome: string }[] };
      expect(body.events.length).toBeGreaterThan(0);
    }
    const active = (await (await api('/v1/installations/oa-active')).json()) as {
      installation: { site: { name: string | null }; plan: { vendorProductId: string } };
      events: { outcome: string }[];
    };
    expect(active.installation.plan.vendorProductId).toBe('premium');
    expect(active.events.map((e) => e.outcome)).toContain('ignored');
    expect(await expectDocumented(await api('/v1/installations/nobody'), 'GET', path)).toMatchObject({ error: { code: 'not_found' } });
    await expectDocumented(await anonymous('/v1/installations/oa-active'), 'GET', path);
  });

  it('POST /v1/installations/{instanceId}/access-token: 200, 404, 410, 502, 401', async () => {
    const path = '/v1/installations/{instanceId}/access-token';
    const post = (id: string, call = api) => call(`/v1/installations/${id}/access-token`, { method: 'POST' });
    const issued = await post('oa-active');
    expect(issued.headers.get('cache-control')).toBe('no-store');
    expect(await expectDocumented(issued, 'POST', path)).toMatchObject({ accessToken: expect.any(String) });
    expect(await expectDocumented(await post('nobody'), 'POST', path)).toMatchObject({ error: { code: 'not_found' } });
    expect(await expectDocumented(await post('oa-removed'), 'POST', path)).toMatchObject({ error: { code: 'gone' } });
    // An instance with no token cached yet, which Wix refuses one.
    expect((await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId: 'oa-refused', iat: nowSec() }))).status).toBe(200);
    wix.fake.markRemoved('oa-refused');
    expect(await expectDocumented(await post('oa-refused'), 'POST', path)).toMatchObject({ error: { code: 'wix_refused' } });
    await expectDocumented(await post('oa-active', anonymous), 'POST', path);
  });

  it('GET /v1/audit/token-handouts: 200 (filters, pages), 400, 401', async () => {
    const path = '/v1/audit/token-handouts';
    type Page = { items: { instanceId: string; outcome: string; apiKeyId: string }[]; nextCursor: string | null };
    const all = (await expectDocumented(await api(path), 'GET', path)) as Page;
    expect(all.items.map((i) => i.outcome)).toEqual(expect.arrayContaining(['issued', 'unknown_instance', 'removed_instance', 'refused']));
    const first = (await expectDocumented(await api(`${path}?limit=1&outcome=issued`), 'GET', path)) as Page;
    expect(first.items).toHaveLength(1);
    await expectDocumented(
      await api(`${path}?instanceId=oa-active&key=${all.items[0]!.apiKeyId}&since=2020-01-01&until=2099-01-01`),
      'GET',
      path,
    );
    if (first.nextCursor) await expectDocumented(await api(`${path}?limit=1&outcome=issued&cursor=${first.nextCursor}`), 'GET', path);
    for (const qs of [
      'limit=0',
      'key=some-api-key-0123456789',
      'outcome=maybe',
      'since=2026-01-02&until=2026-01-01',
      'cursor=%21%21',
      'bogus=1',
    ]) {
      expect(await expectDocumented(await api(`${path}?${qs}`), 'GET', path)).toMatchObject({ error: { code: 'bad_request' } });
    }
    await expectDocumented(await anonymous(path), 'GET', path);
  });

  it('DELETE /v1/dashboard-sessions: 200, 401', async () => {
    const path = '/v1/dashboard-sessions';
    const signIn = await t.app.request('/dashboard/sign-in', {
      method: 'POST',
      body: new URLSearchParams({ apiKey: TEST_API_KEY }),
      headers: { origin: 'http://localhost' },
    });
    expect(signIn.status).toBe(303);
    expect(await expectDocumented(await api(path, { method: 'DELETE' }), 'DELETE', path)).toEqual({ ended: 1 });
    await expectDocumented(await anonymous(path, { method: 'DELETE' }), 'DELETE', path);
  });

  it('GET /v1/stats and /v1/stats/daily: 200, 400, 401', async () => {
    const stats = (await expectDocumented(await api('/v1/stats'), 'GET', '/v1/stats')) as {
      installations: { active: number; removed: number };
    };
    expect(stats.installations.removed).toBe(1);
    expect(stats.installations.active).toBeGreaterThanOrEqual(3);
    await expectDocumented(await anonymous('/v1/stats'), 'GET', '/v1/stats');
    const path = '/v1/stats/daily';
    const daily = (await expectDocumented(await api(path), 'GET', path)) as { days: unknown[]; churn: { installs: number } };
    expect(daily.days).toHaveLength(30);
    expect(daily.churn.installs).toBeGreaterThan(0);
    const today = new Date(t.clock.now()).toISOString().slice(0, 10);
    const weekAgo = new Date(t.clock.now() - 7 * DAY).toISOString().slice(0, 10);
    await expectDocumented(await api(`${path}?from=${weekAgo}&to=${today}`), 'GET', path);
    for (const qs of ['from=2026-02-30', `from=${today}&to=${weekAgo}`, 'from=2020-01-01&to=2026-01-01', 'days=3']) {
      expect(await expectDocumented(await api(`${path}?${qs}`), 'GET', path)).toMatchObject({ error: { code: 'bad_request' } });
    }
    await expectDocumented(await badKey(path), 'GET', path);
  });

  it('GET /v1/changes: 200 (pages, an empty long-poll), 400, 401', async () => {
    const path = '/v1/changes';
    const first = (await expectDocumented(await api(`${path}?limit=3`), 'GET', path)) as { items: { type: string }[]; nextCursor: string };
    expect(first.items.map((c) => c.type)).toEqual(['installation.installed', 'installation.plan_changed', 'installation.installed']);
    let cursor = first.nextCursor;
    for (;;) {
      const page = (await expectDocumented(await api(`${path}?after=${cursor}&limit=1000`), 'GET', path)) as {
        items: unknown[];
        nextCursor: string;
      };
      cursor = page.nextCursor;
      if (page.items.length === 0) break;
    }
    expect(await expectDocumented(await api(`${path}?after=${cursor}&wait=1`), 'GET', path)).toEqual({ items: [], nextCursor: cursor });
    for (const qs of ['limit=0', 'limit=1001', 'wait=61', 'wait=-1', 'after=nonsense', 'bogus=1']) {
      expect(await expectDocumented(await api(`${path}?${qs}`), 'GET', path), qs).toMatchObject({ error: { code: 'bad_request' } });
    }
    await expectDocumented(await anonymous(path), 'GET', path);
  });

  it('GET /app/instance: 200, 401, 404, 502', async () => {
    const path = '/app/instance';
    const ask = (authorization?: string) => anonymous(path, { headers: authorization ? { authorization } : {} });
    expect(await expectDocumented(await ask(wix.fake.issueFrontendToken('oa-active')), 'GET', path)).toMatchObject({
      installation: { instanceId: 'oa-active' },
    });
    expect(await expectDocumented(await ask(`Bearer ${wix.fake.issueFrontendToken('oa-removed')}`), 'GET', path)).toMatchObject({
      installation: { status: 'removed' },
    });
    expect(await expectDocumented(await ask(), 'GET', path)).toMatchObject({ error: { code: 'unauthorized' } });
    expect(
      await expectDocumented(await ask(wix.fake.issueFrontendToken('oa-active', { clientId: 'another-app' })), 'GET', path),
    ).toMatchObject({
      error: { code: 'unauthorized' },
    });
    expect(await expectDocumented(await ask(wix.fake.issueFrontendToken('oa-unknown')), 'GET', path)).toMatchObject({
      error: { code: 'not_found' },
    });
    wix.fake.fail('token-info', { kind: 'status', status: 503 });
    expect(await expectDocumented(await ask(wix.fake.issueFrontendToken('oa-active')), 'GET', path)).toMatchObject({
      error: { code: 'bad_gateway' },
    });
    wix.fake.clearFaults();
  });

  it('every API-key route: 403 without its scope, 429 after 10 failures from one client, 400 for a 201-character id', async () => {
    const operations: [string, string, string, string][] = [
      ['GET', '/v1/installations', '/v1/installations', READ_KEY],
      ['GET', '/v1/installations/export', '/v1/installations/export', READ_KEY],
      ['GET', '/v1/installations/{instanceId}', '/v1/installations/oa-active', READ_KEY],
      ['POST', '/v1/installations/{instanceId}/access-token', '/v1/installations/oa-active/access-token', TOKENS_KEY],
      ['GET', '/v1/stats', '/v1/stats', READ_KEY],
      ['GET', '/v1/stats/daily', '/v1/stats/daily', READ_KEY],
      ['GET', '/v1/audit/token-handouts', '/v1/audit/token-handouts', TEST_API_KEY],
      ['DELETE', '/v1/dashboard-sessions', '/v1/dashboard-sessions', TEST_API_KEY],
      ['GET', '/v1/changes', '/v1/changes', READ_KEY],
      ['GET', '/metrics', '/metrics', READ_KEY],
    ];
    for (const [index, [method, path, url, allowed]] of operations.entries()) {
      const other = allowed === READ_KEY ? TOKENS_KEY : READ_KEY;
      const asKey = (key: string) => t.app.request(url, { method, headers: { authorization: `Bearer ${key}` } });
      expect(await expectDocumented(await asKey(other), method, path)).toMatchObject({ error: { code: 'forbidden' } });
      expect((await asKey(allowed)).status, `${method} ${path} with its scope`).not.toBe(403);
      const client = fromClient(`192.0.2.${index + 1}`);
      for (let i = 0; i < 10; i++) {
        expect((await t.app.request(url, { method, headers: { authorization: 'Bearer wrong-key-0123456789abc' } }, client)).status).toBe(
          401,
        );
      }
      const locked = await t.app.request(url, { method, headers: { authorization: `Bearer ${TEST_API_KEY}` } }, client);
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await expectDocumented(locked, method, path)).toMatchObject({ error: { code: 'too_many_requests' } });
      if (path.includes('{instanceId}')) {
        const long = await api(url.replace('oa-active', 'x'.repeat(201)), { method });
        expect(await expectDocumented(long, method, path)).toMatchObject({ error: { code: 'bad_request' } });
      }
    }
    expect(await expectDocumented(await api('/metrics'), 'GET', '/metrics')).toContain('wix_registry_webhooks_total');
    await expectDocumented(await anonymous('/metrics'), 'GET', '/metrics');
  });

  it('GET /app/instance: 429 past APP_INSTANCE_RATE_LIMIT requests a minute from one client', async () => {
    const client = fromClient('198.51.100.7');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await t.app.request('/app/instance', {}, client)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const limited = await t.app.request('/app/instance', {}, client);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(await expectDocumented(limited, 'GET', '/app/instance')).toMatchObject({ error: { code: 'too_many_requests' } });
  });

  it('GET /healthz and /readyz: 200, and 503 once the database is closed', async () => {
    expect(await expectDocumented(await anonymous('/healthz'), 'GET', '/healthz')).toEqual({ status: 'ok' });
    expect(await expectDocumented(await anonymous('/readyz'), 'GET', '/readyz')).toEqual({ status: 'ready' });
    const other = await createTestRegistry();
    try {
      await other.store.close();
      expect(await expectDocumented(await other.app.request('/readyz'), 'GET', '/readyz')).toEqual({ status: 'starting' });
    } finally {
      await other.close();
    }
  });

  it('every documented answer was seen live, except failures the tests above cannot cause', () => {
    // 500 (a bug) and 503 (the database refusing a write) are not reachable through the API.
    const unreachable = (status: string) => status === '500' || status === '503';
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([method, op]) =>
        Object.keys(op.responses).map((status) => ({ key: `${method.toUpperCase()} ${path} ${status}`, status, path })),
      ),
    );
    const missing = documented.filter((d) => !seen.has(d.key) && !(unreachable(d.status) && d.path !== '/readyz')).map((d) => d.key);
    expect(missing).toEqual([]);
  });
});

describe('Swagger UI at GET /docs', () => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await createTestRegistry();
  });
  afterAll(() => t?.close());

  it('is an HTML page, public, that loads Swagger UI from this app only, under a CSP without inline scripts', async () => {
    const res = await t.app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    const sources = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources).toEqual(
      expect.arrayContaining(['docs/assets/swagger-ui-bundle.js', 'docs/assets/swagger-ui.css', 'docs/assets/init.js']),
    );
    expect(sources.filter((s) => /^(https?:)?\/\//.test(s))).toEqual([]);
    expect(html).not.toMatch(/<script>[^<]/); // no inline script
    // Each referenced file is served (relative to /docs, i.e. from /).
    for (const source of sources) {
      const asset = await t.app.request(new URL(source, 'http://registry.test/docs').pathname);
      expect(asset.status, source).toBe(200);
    }
  });

  it('serves the swagger-ui-dist files and the start-up script as JavaScript and CSS', async () => {
    const bundle = await t.app.request('/docs/assets/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await bundle.text()).toContain('SwaggerUIBundle');
    const css = await t.app.request('/docs/assets/swagger-ui.css');
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    const init = await (await t.app.request('/docs/assets/init.js')).text();
    expect(init).toContain("'openapi.json'");
  });

  it('serves nothing else from the package or the disk', async () => {
    for (const path of [
      '/docs/assets/package.json',
      '/docs/assets/..%2f..%2fpackage.json',
      '/docs/assets/index.html',
      '/docs/assets/swagger-ui-bundle.js.map',
      '/docs/assets/constructor',
    ]) {
      const res = await t.app.request(path);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
  });
});
