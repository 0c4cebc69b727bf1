import { afterEach, describe, expect, it } from 'vitest';
import type { Change } from '../../src/changes/serialize.ts';
import type { OutboxJob } from '../../src/outbox/model.ts';
import type { PushOptions } from '../../src/registry.ts';
import { newEventSecret, startPushReceiver, type PushReceiver } from '../helpers/push-receiver.ts';
import { createTestRegistry, type TestRegistry } from '../helpers/registry.ts';

/**
 * Signed push of changes to REGISTRY_EVENT_ENDPOINTS (issue 10), against real HTTP receivers that
 * verify with the `standardwebhooks` package: at least once, retried through failures, per
 * instance in order, each endpoint on its own, dead after the horizon and retried from the CLI.
 */

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('pushing changes to the endpoints', () => {
  let t: TestRegistry;
  const receivers: PushReceiver[] = [];
  const secret = newEventSecret();
  let iat = Math.floor(Date.now() / 1000) - 600;

  afterEach(async () => {
    await t?.close();
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });

  async function setUp(count: number, push: Partial<PushOptions> = {}, backoff = { baseMs: 1_000, capMs: 2_000, maxAttempts: 5 }) {
    const started = await Promise.all(Array.from({ length: count }, () => startPushReceiver(secret)));
    receivers.push(...started);
    // Real time at the start: receivers check webhook-timestamp against their own clock (5 min).
    t = await createTestRegistry({
      now: Date.now(),
      backoff,
      outboxPollIntervalMs: 20,
      push: { endpoints: started.map((r) => r.url), secret, ...push },
    });
    await t.registry.start();
    return started;
  }

  const send = async (eventType: string, instanceId: string, data: Record<string, unknown> = {}) => {
    const res = await t.deliver(await t.signer.sign({ eventType, instanceId, iat: iat++, data }));
    expect(res.status).toBe(200);
  };
  const feed = async () => ((await (await t.api('/v1/changes?limit=1000')).json()) as { items: Change[] }).items;
  const pushJobs = async (): Promise<OutboxJob[]> => (await t.store.outbox.list({ limit: 1000 })).filter((j) => j.kind === 'push_change');

  /** Waits for `check`, moving the registry's clock a little each round so backoffs come due. */
  async function until(check: () => boolean | Promise<boolean>, what: string, advanceMs = 500) {
    for (let round = 0; round < 400; round++) {
      if (await check()) return;
      t.clock.advance(advanceMs);
      await sleep(25);
    }
    throw new Error(`timed out waiting until ${what}`);
  }

  it('POSTs each change to every endpoint as a Standard Webhooks message that standardwebhooks verifies', async () => {
    const [a, b] = await setUp(2);
    await send('AppInstalled', 'p1', { appId: 'app-1' });
    await send('PaidPlanPurchased', 'p1', { vendorProductId: 'premium' });
    const changes = await feed();
    expect(changes.map((c) => c.type)).toEqual(['installation.installed', 'installation.plan_changed']);
    // Accepted by the receivers, and their answers recorded (an endpoint answers before the registry commits what it said).
    await until(
      async () => a!.accepted().length === 2 && b!.accepted().length === 2 && (await pushJobs()).every((j) => j.status === 'done'),
      'both endpoints have both changes',
    );
    for (const receiver of [a!, b!]) {
      expect(receiver.received.every((r) => r.verified !== null)).toBe(true);
      expect(receiver.accepted()).toEqual(changes);
      for (const [i, r] of receiver.received.entries()) {
        expect(r.headers['webhook-id']).toBe(changes[i]!.id);
        expect(r.headers['content-type']).toBe('application/json');
        expect(r.verified).toEqual({ type: changes[i]!.type, timestamp: changes[i]!.occurredAt, data: changes[i] });
      }
    }
    // Signed with another secret, the same message does not verify: the receiver really checks.
    const { Webhook } = await import('standardwebhooks');
    const first = a!.received[0]!;
    expect(() => new Webhook(newEventSecret()).verify(first.body, first.headers)).toThrow();
    const stats = (await (await t.api('/v1/stats')).json()) as {
      push: { endpoints: { endpoint: string; delivered: number; lastSuccessAt: string | null }[] };
    };
    expect(stats.push.endpoints).toEqual([
      expect.objectContaining({
        endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/hooks\/registry$/),
        delivered: 2,
        lastSuccessAt: expect.any(String),
      }),
      expect.objectContaining({ delivered: 2 }),
    ]);
  });

  it('retries through a 500, a 429 (not before its Retry-After) and a dropped connection, then delivers once', async () => {
    const [r] = await setUp(1, {}, { baseMs: 1_000, capMs: 60_000, maxAttempts: 5 });
    r!.fail({ kind: 'status', status: 500 }, { kind: 'status', status: 429, retryAfter: '30' }, { kind: 'drop' });
    await send('AppInstalled', 'p1');
    await until(async () => (await pushJobs())[0]?.lastError?.includes('429') ?? false, 'the 429 is recorded');
    const afterRateLimit = (await pushJobs())[0]!;
    expect(afterRateLimit).toMatchObject({ status: 'pending', attempts: 2, lastError: expect.stringContaining('429') });
    // Retry-After: 30 s, where the backoff alone says 1–4 s (updatedAt: when the failure was recorded).
    expect(afterRateLimit.runAfter - afterRateLimit.updatedAt).toBeGreaterThanOrEqual(30_000);
    t.clock.advance(30_000);
    await until(() => r!.accepted().length === 1, 'delivered');
    expect(r!.received.map((x) => x.answer)).toEqual([500, 429, 'dropped', 204]);
    // Every attempt carries the same webhook-id (receivers dedupe by it), each signed when it was sent.
    expect(new Set(r!.received.map((x) => x.headers['webhook-id'])).size).toBe(1);
    expect(r!.received.every((x) => x.verified !== null)).toBe(true);
    await until(async () => (await pushJobs())[0]?.status === 'done', 'the job is done');
    expect((await pushJobs())[0]).toMatchObject({ status: 'done', attempts: 4 });
    const [health] = await t.store.push.endpoints();
    expect(health).toMatchObject({
      delivered: 1,
      failedAttempts: 3,
      consecutiveFailures: 0,
      lastError: expect.stringContaining('dropped'),
    });
  });

  it('the push lag metric: how long the oldest undelivered change has waited at each endpoint, 0 once delivered', async () => {
    const [r] = await setUp(1, {}, { baseMs: 60_000, capMs: 60_000, maxAttempts: 5 });
    const lag = async () => {
      const text = await (await t.api('/metrics')).text();
      const line = text.split('\n').find((l) => l.startsWith('wix_registry_push_lag_seconds{'));
      return line === undefined ? undefined : Number(line.split(' ').at(-1));
    };
    expect(await lag()).toBe(0);
    r!.fail({ kind: 'status', status: 500 });
    await send('AppInstalled', 'lag1');
    await until(async () => (await pushJobs())[0]?.lastError?.includes('500') ?? false, 'the 500 is recorded', 0);
    t.clock.advance(45_000);
    // Waiting since the change was enqueued (the install's transaction), 45 s of the test's clock ago at least.
    expect(await lag()).toBeGreaterThanOrEqual(45);
    await until(() => r!.accepted().length === 1, 'delivered', 5_000);
    await until(async () => (await lag()) === 0, 'the lag is back to 0', 0);
  });

  it('per endpoint, an instance changes arrive in order: later ones wait while an earlier one is retried; other instances do not', async () => {
    const [r] = await setUp(1);
    r!.fail({ kind: 'status', status: 503 }); // the first push (a's install) fails
    await send('AppInstalled', 'a');
    await until(() => r!.received.length === 1, 'the first attempt');
    await send('PaidPlanPurchased', 'a', { vendorProductId: 'premium' });
    await send('AppRemoved', 'a');
    await send('AppInstalled', 'b');
    // b is not held up by a's retry.
    await until(() => r!.accepted().some((c) => c.instanceId === 'b'), "b's change", 0);
    expect(r!.accepted().filter((c) => c.instanceId === 'a')).toEqual([]);
    await until(() => r!.accepted().filter((c) => c.instanceId === 'a').length === 3, "a's three changes");
    expect(
      r!
        .accepted()
        .filter((c) => c.instanceId === 'a')
        .map((c) => c.type),
    ).toEqual(['installation.installed', 'installation.plan_changed', 'installation.removed']);
    // Never two of a's changes in flight at once, and none sent before the one before it was accepted.
    const forA = r!.received.filter((x) => x.verified?.data.instanceId === 'a').map((x) => [x.verified!.data.type, x.answer]);
    expect(forA).toEqual([
      ['installation.installed', 503],
      ['installation.installed', 204],
      ['installation.plan_changed', 204],
      ['installation.removed', 204],
    ]);
  });

  it('a slow endpoint delays neither webhooks nor another endpoint', async () => {
    const [slow, fast] = await setUp(2, { concurrencyPerEndpoint: 2, timeoutMs: 15_000 });
    slow!.fail({ kind: 'hold' }, { kind: 'hold' });
    for (const id of ['s1', 's2', 's3']) await send('AppInstalled', id); // each answered 200 meanwhile
    await until(() => slow!.holding() === 2, 'the slow endpoint holds two pushes', 0);
    await until(() => fast!.accepted().length === 3, 'the fast endpoint has every change', 0);
    // The slow one is still holding its two slots (its concurrency) and nothing more has reached it.
    expect(slow!.holding()).toBe(2);
    expect(slow!.received).toHaveLength(2);
    slow!.release();
    await until(async () => (await pushJobs()).every((j) => j.status === 'done'), 'the slow endpoint catches up', 0);
    expect(slow!.received.map((x) => x.verified?.data.instanceId).sort()).toEqual(['s1', 's2', 's3']);
  });

  it('bounds each attempt with a timeout: no answer is a failure to retry', async () => {
    const [r] = await setUp(1, { timeoutMs: 300 });
    r!.fail({ kind: 'hold' });
    await send('AppInstalled', 'p1');
    await until(async () => (await pushJobs())[0]?.lastError?.includes('no answer within 300 ms') ?? false, 'the attempt timed out', 0);
    expect((await pushJobs())[0]).toMatchObject({ status: 'pending', attempts: 1 });
    await until(() => r!.accepted().length === 1, 'delivered on the retry');
  });

  it('is dead after the retry horizon: visible in /v1/stats and `outbox list`; `outbox retry` sends it, then what waited behind it', async () => {
    const [r] = await setUp(1, {}, { baseMs: 1_000, capMs: 1_000, maxAttempts: 2 });
    r!.failAlways(500);
    await send('AppInstalled', 'd1');
    await until(async () => (await pushJobs()).some((j) => j.status === 'dead'), 'the push is dead');
    await send('PaidPlanPurchased', 'd1', { vendorProductId: 'premium' }); // waits behind the dead one
    await sleep(200);
    t.clock.advance(10_000);
    await sleep(200);
    expect((await pushJobs()).map((j) => j.status).sort()).toEqual(['dead', 'pending']);

    const stats = (await (await t.api('/v1/stats')).json()) as {
      push: { endpoints: { dead: number; pending: number; consecutiveFailures: number }[] };
    };
    expect(stats.push.endpoints[0]).toMatchObject({ dead: 1, pending: 1, consecutiveFailures: 2 });

    const cli = (...args: string[]) => t.cli(...args);
    // (The Wix jobs of d1 are dead too here: this registry has no Wix to talk to.)
    const listed = JSON.parse(await cli('outbox', 'list', '--status', 'dead', '--json')) as {
      jobs: { id: number; kind: string; endpoint: string | null; lastError: string }[];
    };
    const dead = listed.jobs.filter((j) => j.kind === 'push_change');
    expect(dead).toEqual([
      expect.objectContaining({
        endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/hooks\/registry$/),
        lastError: expect.stringContaining('500'),
      }),
    ]);
    expect(await cli('outbox', 'list', '--status', 'dead')).toMatch(/push_change\s+d1\s+dead/);

    r!.failAlways(null);
    expect(await cli('outbox', 'retry', String(dead[0]!.id))).toContain('1 job(s) queued again');
    t.clock.set(Math.max(t.clock.now(), Date.now())); // the CLI queued it on the system clock
    await until(() => r!.accepted().length === 2, 'both changes delivered');
    expect(r!.accepted().map((c) => c.type)).toEqual(['installation.installed', 'installation.plan_changed']);
  });

  it('an endpoint taken out of REGISTRY_EVENT_ENDPOINTS gets no new pushes, and its waiting ones are cancelled', async () => {
    const [kept, dropped] = await setUp(2);
    dropped!.failAlways(500);
    await send('AppInstalled', 'e1');
    await until(() => kept!.accepted().length === 1 && dropped!.received.length >= 1, 'first attempts');
    // A restart with only the first endpoint configured.
    await t.restart({ push: { endpoints: [kept!.url], secret } });
    await t.registry.start();
    await send('AppInstalled', 'e2');
    await until(() => kept!.accepted().length === 2, 'the kept endpoint has e2');
    const jobs = await pushJobs();
    expect(jobs.filter((j) => j.endpoint === dropped!.url).map((j) => [j.instanceId, j.status])).toEqual([['e1', 'cancelled']]);
    expect((await t.store.push.endpoints()).map((h) => [h.url, h.active])).toEqual([
      [kept!.url, true],
      [dropped!.url, false],
    ]);
  });
});
