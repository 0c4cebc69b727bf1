import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { createTestRegistry, type TestRegistry } from '../helpers/registry.ts';
import { TEST_ENGINE } from '../helpers/engine.ts';

let wix: RunningFakeWix;
beforeAll(async () => {
  wix = await startFakeWix();
});
afterAll(() => wix.close());

describe('the APP_FINISHED_CONFIGURATION outbox', () => {
  let t: TestRegistry;
  const nowSec = () => Math.floor(t.clock.now() / 1000);
  beforeEach(async () => {
    wix.fake.calls.length = 0;
    wix.fake.biEvents.length = 0;
    wix.fake.clearFaults();
    t = await createTestRegistry({
      wixApiBaseUrl: wix.url,
      backoff: { baseMs: 1_000, capMs: 60_000, maxAttempts: 5 },
      wixRequestTimeoutMs: 500,
    });
  });
  afterEach(() => t.close());

  const install = async (instanceId: string, iat = nowSec()) => {
    const token = await t.signer.sign({ eventType: 'AppInstalled', instanceId, iat, data: { appId: 'app' } });
    expect((await t.deliver(token)).status).toBe(200);
    return token;
  };
  const remove = async (instanceId: string, iat = nowSec()) =>
    expect((await t.deliver(await t.signer.sign({ eventType: 'AppRemoved', instanceId, iat }))).status).toBe(200);
  const jobs = (instanceId?: string) => t.store.outbox.list({ instanceId });
  const sentTo = (instanceId: string) =>
    wix.fake.biEvents.filter((e) => e.instanceId === instanceId && e.eventName === 'APP_FINISHED_CONFIGURATION');
  /** Runs due jobs, moving the clock past each backoff, until nothing is pending. */
  async function drain(maxRounds = 20) {
    for (let i = 0; i < maxRounds; i++) {
      await t.registry.outbox.worker.runDue();
      const due = await t.store.outbox.nextDueAt();
      if (due === null) return;
      t.clock.set(Math.max(t.clock.now(), due));
    }
  }

  it('sends the BI event once per install, marks the installation configured, and fills in the site', async () => {
    const token = await install('i1');
    expect((await jobs('i1')).map((j) => [j.kind, j.status]).sort()).toEqual([
      ['finished_configuration', 'pending'],
      ['sync_instance', 'pending'],
    ]);
    await drain();
    expect(sentTo('i1')).toHaveLength(1);
    await t.deliver(token); // a Wix resend
    await drain();
    expect(sentTo('i1')).toHaveLength(1);
    const { installation } = (await (await t.api('/v1/installations/i1')).json()) as { installation: Record<string, any> };
    expect(installation.configuredAt).toBe(new Date(t.clock.now()).toISOString());
    expect(installation.site).toMatchObject({ name: 'Sandbox Site i1', url: 'https://sandbox-i1.wixsite.com/site', siteId: 'site-i1' });
    expect(installation.appVersion).toBe('1.4.0');
    expect(installation.plan.isFree).toBe(true);
  });

  it('a late AppInstalled older than the installation already configured (no removal between) is the same installation: no second BI event', async () => {
    const x = nowSec() - 3_600;
    await install('late-1', x);
    await drain();
    expect(sentTo('late-1')).toHaveLength(1);
    const configured = (await t.store.installations.get('late-1'))!;
    expect(configured).toMatchObject({ installedAt: x * 1000, configuredAt: expect.any(Number) });

    t.clock.advance(60_000);
    await install('late-1', x - 600); // the same install, older iat, arriving late (a new user: the BI event went out twice)
    await drain();
    expect(sentTo('late-1')).toHaveLength(1);
    expect(await t.store.installations.get('late-1')).toMatchObject({
      installedAt: x * 1000,
      installedAtInferred: false,
      configuredAt: configured.configuredAt,
    });
    expect((await jobs('late-1')).map((j) => [j.kind, j.status, j.installationStartedAt]).sort()).toEqual([
      ['finished_configuration', 'done', x * 1000],
      ['sync_instance', 'done', x * 1000],
    ]);
    const { events } = (await (await t.api('/v1/installations/late-1')).json()) as { events: { issuedAt: string; outcome: string }[] };
    expect(events.map((e) => e.outcome)).toEqual(['stale', 'applied']);

    // A removal and a reinstall make a new installation, configured again.
    await remove('late-1', x + 60);
    await install('late-1', x + 120);
    await drain();
    expect(sentTo('late-1')).toHaveLength(2);
  });

  it('retries through 500s, 429 with Retry-After, slow answers and dropped connections, then sends exactly once', async () => {
    wix.fake.fail(
      'bi-event',
      { kind: 'status', status: 500 },
      { kind: 'status', status: 429, retryAfterSec: 30 },
      { kind: 'delay', ms: 800 }, // longer than the 500 ms timeout: the fake still records it, but after our abort
      { kind: 'drop' },
    );
    await install('i2');
    await t.registry.outbox.worker.runDue();
    let job = (await jobs('i2')).find((j) => j.kind === 'finished_configuration')!;
    expect(job).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringContaining('500') });
    t.clock.set(job.runAfter);
    await t.registry.outbox.worker.runDue();
    job = (await jobs('i2')).find((j) => j.kind === 'finished_configuration')!;
    expect(job.lastError).toContain('429');
    expect(job.runAfter - t.clock.now()).toBeGreaterThanOrEqual(30_000);
    await drain();
    job = (await jobs('i2')).find((j) => j.kind === 'finished_configuration')!;
    expect(job).toMatchObject({ status: 'done', attempts: 5 });
    expect(sentTo('i2')).toHaveLength(1);
  });

  it('is never sent for an instance removed before the job ran', async () => {
    await install('i3');
    await remove('i3', nowSec() + 1);
    await drain();
    expect(sentTo('i3')).toHaveLength(0);
    expect((await jobs('i3')).every((j) => j.status === 'cancelled')).toBe(true);
    expect(wix.fake.calls).toHaveLength(0);
  });

  it('a reinstall sends again; a resent old install does not', async () => {
    await install('i4', nowSec() - 100);
    await drain();
    await remove('i4', nowSec() - 50);
    const reinstall = await install('i4', nowSec());
    await drain();
    expect(sentTo('i4')).toHaveLength(2);
    await t.deliver(reinstall);
    await install('i4', nowSec() - 100 + 1); // an older, distinct AppInstalled: stale
    await drain();
    expect(sentTo('i4')).toHaveLength(2);
  });

  it('ends as dead with the last error after too many attempts, and can be retried', async () => {
    wix.fake.fail('bi-event', ...Array.from({ length: 5 }, () => ({ kind: 'status' as const, status: 503 })));
    await install('i5');
    await drain();
    const dead = (await jobs('i5')).find((j) => j.kind === 'finished_configuration')!;
    expect(dead).toMatchObject({ status: 'dead', attempts: 5, lastError: expect.stringContaining('503') });
    expect(sentTo('i5')).toHaveLength(0);
    const stats = (await (await t.api('/v1/stats')).json()) as { outbox: Record<string, number> };
    expect(stats.outbox.dead).toBe(1);
    expect(await t.store.write({ kind: 'requeueJobs', now: t.clock.now() })).toBe(1);
    await drain();
    expect(sentTo('i5')).toHaveLength(1);
  });

  it('a refusal that cannot succeed is dead at once', async () => {
    wix.fake.markRemoved('i6');
    await install('i6');
    await t.registry.outbox.worker.runDue();
    const job = (await jobs('i6')).find((j) => j.kind === 'finished_configuration')!;
    expect(job).toMatchObject({ status: 'dead', attempts: 1, lastError: expect.stringContaining('403') });
  });

  it('survives a restart: pending and abandoned running jobs run after it', async () => {
    wix.fake.fail('bi-event', { kind: 'status', status: 500 });
    await install('i7');
    await t.registry.outbox.worker.runDue();
    // Simulate a crash mid-call: the job was claimed ("running") when the process died.
    await t.store.write({ kind: 'claimJobs', now: t.clock.now() + 10 * 60_000, limit: 10, leaseMs: 60_000 });
    await t.restart();
    // SQLite has one process: whatever is running after a restart was abandoned. On PostgreSQL
    // another replica may hold the job, so a starting one takes it only once its lease has lapsed.
    if (TEST_ENGINE === 'postgres') t.clock.advance(12 * 60_000); // past the lease the claim above took
    await t.registry.start(); // the background worker, on its own timers
    await vi.waitFor(() => expect(sentTo('i7')).toHaveLength(1), { timeout: 5_000 });
    await vi.waitFor(async () => expect((await jobs('i7')).every((j) => j.status === 'done')).toBe(true), { timeout: 5_000 });
    await t.registry.stop();
    expect(sentTo('i7')).toHaveLength(1);
  });

  it('graceful stop lets a running job finish', async () => {
    wix.fake.fail('bi-event', { kind: 'delay', ms: 200 });
    await install('i8');
    const run = t.registry.outbox.worker.runDue();
    await new Promise((r) => setTimeout(r, 50));
    await t.registry.outbox.worker.stop(2_000);
    await run;
    expect(sentTo('i8')).toHaveLength(1);
    expect((await jobs('i8')).find((j) => j.kind === 'finished_configuration')?.status).toBe('done');
  });

  it('graceful stop returns a job still running after the grace period to the queue', async () => {
    wix.fake.fail('bi-event', { kind: 'delay', ms: 400 });
    await install('i9');
    void t.registry.outbox.worker.runDue();
    await new Promise((r) => setTimeout(r, 50));
    await t.registry.outbox.worker.stop(50);
    const job = (await jobs('i9')).find((j) => j.kind === 'finished_configuration')!;
    expect(job).toMatchObject({ status: 'pending', attempts: 0 });
  });
});
