/**
 * Wix outage: every Wix call fails for a while (500s, 429 with Retry-After, dropped connections)
 * while 50 installations wait for their APP_FINISHED_CONFIGURATION and site sync. The worker is
 * driven through the outage on the manual clock; once Wix recovers, every instance gets its BI
 * event exactly once and no job died (the outage stayed inside the retry horizon).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fault, FakeWixRoute } from '../../src/sandbox/fake-wix.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { createTestRegistry, type TestRegistry } from '../helpers/registry.ts';

const INSTALLS = 50;
const RETRY_AFTER_SEC = 7;
const BACKOFF = { baseMs: 1_000, capMs: 60_000, maxAttempts: 15 };

/** The failures the outage serves, as a job's last error names them. */
const FAILURES = ['500', '503', '429', 'no answer'] as const;
const failureOf = (lastError: string) =>
  FAILURES.find((f) => (f === 'no answer' ? /no answer/ : new RegExp(`answered ${f}\\b`)).test(lastError)) ?? null;

describe('Wix outage: everything fails for a while, then recovers', () => {
  let wix: RunningFakeWix;
  let t: TestRegistry;

  beforeAll(async () => {
    wix = await startFakeWix();
    t = await createTestRegistry({ wixApiBaseUrl: wix.url, backoff: BACKOFF, wixRequestTimeoutMs: 2_000 });
  });
  afterAll(async () => {
    await t.close();
    await wix.close();
  });

  const allJobs = () => t.store.outbox.list({ limit: 10_000 });

  /** Runs every job due at the current (manual) time, then moves the clock to the next due one. */
  async function step(): Promise<boolean> {
    while ((await t.registry.outbox.worker.runDue()) > 0) {
      // more may be due at this same instant (the worker claims at most its concurrency)
    }
    const due = await t.store.outbox.nextDueAt();
    if (due === null) return false;
    t.clock.set(Math.max(t.clock.now(), due));
    return true;
  }

  it('retries through the outage and sends each BI event exactly once after recovery', async () => {
    const faultMix = (n: number): Fault[] =>
      Array.from({ length: n }, (_, i): Fault => {
        switch (i % 4) {
          case 0:
            return { kind: 'status', status: 500 };
          case 1:
            return { kind: 'status', status: 429, retryAfterSec: RETRY_AFTER_SEC };
          case 2:
            return { kind: 'drop' };
          default:
            return { kind: 'status', status: 503 };
        }
      });
    // Tokens fail for the first part of the outage, then Wix's APIs behind them keep failing:
    // every call that matters fails until clearFaults().
    const routes: [FakeWixRoute, number][] = [
      ['token', 150],
      ['bi-event', 5_000],
      ['instance', 5_000],
    ];
    for (const [route, n] of routes) wix.fake.fail(route, ...faultMix(n));

    const iat = Math.floor(t.clock.now() / 1000);
    const ids = Array.from({ length: INSTALLS }, (_, i) => `outage-${i}`);
    for (const instanceId of ids) {
      const res = await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId, iat, data: { appId: 'app' } }));
      expect(await res.json()).toEqual({ status: 'accepted' });
    }
    expect(await allJobs()).toHaveLength(INSTALLS * 2);

    // The outage: every job is tried (and fails) at least nine times, minutes of Wix time.
    const outageStartedAt = t.clock.now();
    const retryAfterViolations: string[] = [];
    const failuresMet = new Set<string>(); // "<job kind> <failure>", from each job's last error after every round
    let rounds = 0;
    while (Math.min(...(await allJobs()).map((j) => j.attempts)) < 9 && rounds < 5_000) {
      rounds++;
      if (!(await step())) break;
      for (const job of await allJobs()) {
        const failure = job.lastError ? failureOf(job.lastError) : null;
        if (failure) failuresMet.add(`${job.kind} ${failure}`);
      }
      // A 429's Retry-After is honoured: the job is not due again sooner.
      for (const job of await allJobs()) {
        if (job.status === 'pending' && job.lastError?.includes('429') && job.runAfter - job.updatedAt < RETRY_AFTER_SEC * 1000) {
          retryAfterViolations.push(`${job.id}: due ${job.runAfter - job.updatedAt} ms after a 429`);
        }
      }
    }
    expect(retryAfterViolations).toEqual([]);
    const during = await allJobs();
    expect(wix.fake.biEvents).toHaveLength(0);
    expect(during.filter((j) => j.status !== 'pending').map((j) => `${j.id} ${j.status} ${j.lastError}`)).toEqual([]);
    expect(Math.min(...during.map((j) => j.attempts))).toBeGreaterThanOrEqual(9);
    expect(Math.max(...during.map((j) => j.attempts))).toBeLessThan(BACKOFF.maxAttempts);
    // Every kind of failure was met along the way, by both kinds of job: each fault was served
    // (the calls used up the token faults and cycled through the others)…
    expect(wix.fake.callsTo('token').length).toBeGreaterThanOrEqual(150);
    expect(wix.fake.callsTo('bi-event').length).toBeGreaterThan(INSTALLS);
    expect(wix.fake.callsTo('instance').length).toBeGreaterThan(INSTALLS);
    // …and each was recorded as a job's failure, then retried.
    expect([...failuresMet].sort()).toEqual(
      ['finished_configuration', 'sync_instance'].flatMap((kind) => FAILURES.map((failure) => `${kind} ${failure}`)).sort(),
    );

    const outageSeconds = (t.clock.now() - outageStartedAt) / 1000;
    // Wix recovers.
    wix.fake.clearFaults();
    const callsBefore = wix.fake.callsTo('bi-event').length;
    for (let i = 0; i < 500 && (await step()); i++) {
      // drain
    }

    const after = await allJobs();
    expect(after.filter((j) => j.status !== 'done').map((j) => `${j.id} ${j.kind} ${j.status} ${j.attempts} ${j.lastError}`)).toEqual([]);
    expect(Math.max(...after.map((j) => j.attempts))).toBeLessThanOrEqual(BACKOFF.maxAttempts);
    const sends = new Map<string, number>();
    for (const e of wix.fake.biEvents) {
      expect(e.eventName).toBe('APP_FINISHED_CONFIGURATION');
      sends.set(e.instanceId, (sends.get(e.instanceId) ?? 0) + 1);
    }
    expect([...sends.keys()].sort()).toEqual([...ids].sort());
    expect([...sends.values()].every((n) => n === 1)).toBe(true);
    // After recovery each BI job needed one call: nothing was sent twice behind our back.
    expect(wix.fake.callsTo('bi-event').length - callsBefore).toBe(INSTALLS);

    const stats = (await (await t.api('/v1/stats')).json()) as { outbox: Record<string, number> };
    expect(stats.outbox).toMatchObject({ pending: 0, running: 0, dead: 0, done: INSTALLS * 2 });
    const unconfigured = await t.db.value('SELECT count(*) FROM installations WHERE configured_at IS NULL OR site_synced_at IS NULL');
    expect(unconfigured).toBe(0);
    console.log(
      `[wix-outage] outage of ${Math.round(outageSeconds)} s of Wix time (${rounds} worker rounds); ` +
        `calls: token ${wix.fake.callsTo('token').length}, bi-event ${wix.fake.callsTo('bi-event').length}, instance ${wix.fake.callsTo('instance').length}; ` +
        `attempts max ${Math.max(...after.map((j) => j.attempts))}`,
    );
  }, 120_000);
});
