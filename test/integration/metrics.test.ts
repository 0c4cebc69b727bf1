import parsePrometheusTextFormat, { type ParsedMetricFamily } from 'parse-prometheus-text-format';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { createTestRegistry, TEST_API_KEY, type TestRegistry } from '../helpers/registry.ts';

/**
 * GET /metrics through the real app, read back with a Prometheus text-format parser (not our own
 * code): the values move when webhooks, tokens and outbox work happen.
 */

type Labels = Record<string, string>;

describe('GET /metrics', () => {
  let wix: RunningFakeWix;
  let t: TestRegistry;
  const nowSec = () => Math.floor(t.clock.now() / 1000);

  beforeAll(async () => {
    wix = await startFakeWix();
    t = await createTestRegistry({ wixApiBaseUrl: wix.url, now: Date.now() });
  });
  afterAll(async () => {
    await t?.close();
    await wix?.close();
  });

  async function scrape(registry: TestRegistry = t): Promise<ParsedMetricFamily[]> {
    const res = await registry.api('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusTextFormat(await res.text());
  }
  const family = (families: ParsedMetricFamily[], name: string) => {
    const found = families.find((f) => f.name === name);
    expect(found, name).toBeDefined();
    return found!;
  };
  /** The value of the sample whose labels include `labels`. */
  const value = (families: ParsedMetricFamily[], name: string, labels: Labels = {}) => {
    const sample = family(families, name).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
    expect(sample, `${name} ${JSON.stringify(labels)}`).toBeDefined();
    return Number(sample!.value);
  };
  const histogram = (families: ParsedMetricFamily[], name: string) => {
    const sample = family(families, name).metrics[0]!;
    return { count: Number(sample.count), sum: Number(sample.sum), buckets: sample.buckets! };
  };

  it('needs an API key with the read scope', async () => {
    expect((await t.app.request('/metrics')).status).toBe(401);
  });

  it('counts webhooks by outcome and refusal reason, with latency in buckets around 1.25 s', async () => {
    const before = await scrape();
    for (const outcome of ['accepted', 'duplicate', 'invalid_signature', 'malformed_envelope', 'payload_too_large', 'unavailable']) {
      expect(value(before, 'wix_registry_webhooks_total', { outcome }), outcome).toBe(0);
    }
    expect(histogram(before, 'wix_registry_webhook_duration_seconds').count).toBe(0);

    const jwt = await t.signer.sign({ eventType: 'AppInstalled', instanceId: 'm-1', iat: nowSec() });
    expect((await t.deliver(jwt)).status).toBe(200);
    expect((await t.deliver(jwt)).status).toBe(200);
    expect((await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId: 'm-2', iat: nowSec() }))).status).toBe(200);
    expect((await t.deliver('not.a.jwt')).status).toBe(401);
    const noInstance = await new SignJWT({ data: JSON.stringify({ eventType: 'AppInstalled', data: '{}' }) })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuedAt(nowSec())
      .sign(t.signer.privateKey);
    expect((await t.deliver(noInstance)).status).toBe(400);
    expect((await t.deliver('x'.repeat(65 * 1024))).status).toBe(413);

    const after = await scrape();
    expect(value(after, 'wix_registry_webhooks_total', { outcome: 'accepted' })).toBe(2);
    expect(value(after, 'wix_registry_webhooks_total', { outcome: 'duplicate' })).toBe(1);
    expect(value(after, 'wix_registry_webhooks_total', { outcome: 'invalid_signature' })).toBe(1);
    expect(value(after, 'wix_registry_webhooks_total', { outcome: 'malformed_envelope' })).toBe(1);
    expect(value(after, 'wix_registry_webhooks_total', { outcome: 'payload_too_large' })).toBe(1);
    const latency = histogram(after, 'wix_registry_webhook_duration_seconds');
    expect(latency.count).toBe(6);
    expect(Object.keys(latency.buckets)).toEqual(expect.arrayContaining(['1', '1.25', '1.5', '+Inf']));
    expect(Number(latency.buckets['+Inf'])).toBe(6);
  });

  it('reports installations by status, and outbox jobs by kind and state with the oldest due job age', async () => {
    let families = await scrape();
    expect(value(families, 'wix_registry_installations', { status: 'active' })).toBe(2);
    expect(value(families, 'wix_registry_installations', { status: 'removed' })).toBe(0);
    expect(value(families, 'wix_registry_outbox_open_jobs', { kind: 'finished_configuration', state: 'pending' })).toBe(2);
    expect(value(families, 'wix_registry_outbox_open_jobs', { kind: 'sync_instance', state: 'pending' })).toBe(2);
    expect(value(families, 'wix_registry_outbox_open_jobs', { kind: 'sync_instance', state: 'dead' })).toBe(0);
    expect(value(families, 'wix_registry_outbox_jobs', { state: 'pending' })).toBe(4);
    expect(value(families, 'wix_registry_outbox_jobs', { state: 'done' })).toBe(0);

    t.clock.advance(30_000);
    families = await scrape();
    expect(value(families, 'wix_registry_outbox_oldest_due_job_age_seconds')).toBeGreaterThanOrEqual(30);

    for (let i = 0; i < 10 && (await t.registry.outbox.worker.runDue()) > 0; i++);
    expect((await t.deliver(await t.signer.sign({ eventType: 'AppRemoved', instanceId: 'm-2', iat: nowSec() }))).status).toBe(200);
    families = await scrape();
    expect(value(families, 'wix_registry_outbox_jobs', { state: 'done' })).toBe(4);
    expect(value(families, 'wix_registry_outbox_jobs', { state: 'pending' })).toBe(0);
    expect(value(families, 'wix_registry_outbox_open_jobs', { kind: 'finished_configuration', state: 'pending' })).toBe(0);
    expect(value(families, 'wix_registry_outbox_oldest_due_job_age_seconds')).toBe(0);
    expect(value(families, 'wix_registry_installations', { status: 'active' })).toBe(1);
    expect(value(families, 'wix_registry_installations', { status: 'removed' })).toBe(1);
  });

  it('counts token handouts by outcome, the transactions the writer committed, and the token requests to Wix', async () => {
    const post = (id: string) => t.api(`/v1/installations/${id}/access-token`, { method: 'POST' });
    expect((await post('m-1')).status).toBe(200);
    expect((await post('nobody')).status).toBe(404);
    expect((await post('m-2')).status).toBe(410);

    const families = await scrape();
    expect(value(families, 'wix_registry_token_handouts_total', { outcome: 'issued' })).toBe(1);
    expect(value(families, 'wix_registry_token_handouts_total', { outcome: 'unknown_instance' })).toBe(1);
    expect(value(families, 'wix_registry_token_handouts_total', { outcome: 'removed_instance' })).toBe(1);
    expect(value(families, 'wix_registry_token_handouts_total', { outcome: 'failed' })).toBe(0);
    // Every write went through a group commit: the webhooks, the outbox's claims and outcomes, the three audit rows.
    const batches = histogram(families, 'wix_registry_group_commit_batch_size');
    expect(batches.count).toBeGreaterThan(0);
    expect(batches.sum).toBeGreaterThanOrEqual(3 + 3);
    // One token request per instance the outbox called Wix for; the handout reused m-1's cached token.
    expect(value(families, 'wix_registry_wix_token_requests_total', { outcome: 'ok' })).toBe(2);
    expect(value(families, 'wix_registry_wix_token_requests_total', { outcome: 'refused' })).toBe(0);
    expect(value(families, 'wix_registry_wix_token_requests_total', { outcome: 'network' })).toBe(0);
  });

  it('counts HTTP requests by route pattern (never the raw path), and exposes process metrics', async () => {
    await t.api('/v1/installations/m-1');
    await t.api('/v1/installations/another-id');
    const families = await scrape();
    expect(
      value(families, 'wix_registry_http_requests_total', { method: 'GET', route: '/v1/installations/:instanceId', status: '200' }),
    ).toBe(1);
    expect(
      value(families, 'wix_registry_http_requests_total', { method: 'GET', route: '/v1/installations/:instanceId', status: '404' }),
    ).toBe(1);
    expect(family(families, 'wix_registry_http_requests_total').metrics.some((m) => m.labels?.route?.includes('another-id'))).toBe(false);
    family(families, 'process_cpu_user_seconds_total');
    family(families, 'nodejs_eventloop_lag_seconds');
  });

  it('each app has its own metrics registry', async () => {
    const other = await createTestRegistry();
    try {
      const families = await scrape(other);
      expect(value(families, 'wix_registry_webhooks_total', { outcome: 'accepted' })).toBe(0);
      expect(value(await scrape(), 'wix_registry_webhooks_total', { outcome: 'accepted' })).toBe(3);
    } finally {
      await other.close();
    }
  });

  it('a database read that fails leaves its metric out of the scrape and counts the failure; the rest still answers', async () => {
    const other = await createTestRegistry();
    try {
      await other.store.close();
      const res = await other.app.request('/metrics', { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
      expect(res.status).toBe(200);
      const families = parsePrometheusTextFormat(await res.text());
      expect(value(families, 'wix_registry_metrics_collection_failures_total', { collector: 'installations' })).toBe(1);
      expect(family(families, 'wix_registry_installations').metrics).toEqual([]);
      expect(value(families, 'wix_registry_webhooks_total', { outcome: 'accepted' })).toBe(0);
    } finally {
      await other.close();
    }
  });
});
