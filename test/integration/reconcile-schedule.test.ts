/**
 * The server's scheduled reconciliation: a slice at a time of the installations not heard from
 * for RECONCILE_AFTER_DAYS, under a lease several processes share, resuming where the walk stood.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { createReconciler } from '../../src/reconcile/reconciler.ts';
import { createReconcileScheduler, RECONCILE_STOP_BACKOFF_MS, RECONCILE_WALK_NAME } from '../../src/reconcile/scheduler.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { createTestRegistry, TEST_APP_ID, TEST_APP_SECRET, type TestRegistry } from '../helpers/registry.ts';

const DAY_MS = 86_400_000;
const INTERVAL_MS = 60_000;

describe('scheduled reconciliation', () => {
  let wix: RunningFakeWix;
  let t: TestRegistry;
  const schedulerAs = (owner: string) =>
    createReconcileScheduler({
      store: t.store,
      clock: t.clock,
      logger: createLogger('silent'),
      owner,
      config: { afterMs: 7 * DAY_MS, intervalMs: INTERVAL_MS, sliceSize: 2, ratePerSec: 100 },
      reconciler: createReconciler({
        store: t.store,
        clock: t.clock,
        wix: { appId: TEST_APP_ID, appSecret: TEST_APP_SECRET, wixApiBaseUrl: wix.url },
        ratePerSec: 100,
        maxRemovedShare: 0.5,
        sleep: async (ms) => t.clock.advance(ms),
        timeoutMs: 500,
      }),
    });
  const walkRow = async () =>
    (
      await t.db.query<{ cursor: string | null; owner: string | null; nextRunAt: number; lastStop: string | null }>(
        'SELECT cursor, lease_owner AS owner, next_run_at AS "nextRunAt", last_stop AS "lastStop" FROM reconcile_schedule WHERE name = ?',
        [RECONCILE_WALK_NAME],
      )
    )[0]!;

  beforeAll(async () => {
    wix = await startFakeWix();
    t = await createTestRegistry({ wixApiBaseUrl: wix.url });
    const nowSec = Math.floor(t.clock.now() / 1000);
    const install = async (id: string, iat: number) => {
      expect((await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId: id, iat }))).status).toBe(200);
    };
    // Four not heard from for 20 days (installed in this order), one heard from an hour ago.
    for (const [i, id] of ['old-a', 'old-b', 'old-c', 'old-d'].entries()) await install(id, nowSec - 20 * 86_400 + i);
    await install('fresh-e', nowSec - 3_600);
    for (let i = 0; i < 3; i++) await t.registry.outbox.worker.runDue();
    wix.fake.markRemoved('old-b');
  });
  afterAll(async () => {
    await t.close();
    await wix.close();
  });

  it('checks a slice of the installations not heard from, resumes after it, and starts over at the end', async () => {
    const scheduler = schedulerAs('replica-1');
    const first = await scheduler.runOnce();
    expect(first).toMatchObject({ examined: 2, due: 2, wrapped: false, summary: { checked: 2, removed: 1, stopped: null } });
    expect((await t.store.installations.get('old-b'))!.status).toBe('removed');
    expect(await walkRow()).toMatchObject({ owner: null, nextRunAt: t.clock.now() + INTERVAL_MS, lastStop: null });

    // Not due again before the interval, whoever asks.
    expect(await schedulerAs('replica-2').runOnce()).toBeNull();
    t.clock.advance(INTERVAL_MS);
    // Another process takes the next slice, where the walk stood: old-c and old-d (old-b is removed now).
    const second = await schedulerAs('replica-2').runOnce();
    expect(second).toMatchObject({ due: 2, wrapped: false, summary: { checked: 2, removed: 0 } });
    t.clock.advance(INTERVAL_MS);
    // fresh-e was heard from an hour ago: looked at, not checked; the walk wraps.
    expect(await scheduler.runOnce()).toMatchObject({ examined: 1, due: 0, wrapped: true, summary: null });
    expect((await walkRow()).cursor).toBeNull();
    t.clock.advance(INTERVAL_MS);
    // Everything checked in this round is not due again until RECONCILE_AFTER_DAYS have passed.
    const calls = wix.fake.callsTo('token').length;
    expect(await scheduler.runOnce()).toMatchObject({ examined: 4, due: 0, wrapped: true });
    expect(wix.fake.callsTo('token')).toHaveLength(calls);
  });

  it('one process at a time: a live lease is respected, a lapsed one is taken over', async () => {
    t.clock.advance(INTERVAL_MS);
    expect(
      await t.store.write({ kind: 'claimReconcileWalk', name: RECONCILE_WALK_NAME, owner: 'crashed', now: t.clock.now(), leaseMs: 30_000 }),
    ).toEqual({ cursor: null });
    expect(await schedulerAs('replica-1').runOnce()).toBeNull();
    t.clock.advance(30_001);
    expect(await schedulerAs('replica-1').runOnce()).not.toBeNull();
    expect((await walkRow()).owner).toBeNull();
  });

  it('a slice that stops for safety is not skipped: the walk stays, and waits before trying again', async () => {
    t.clock.advance(8 * DAY_MS); // everything is due again
    wix.fake.fail('token', ...Array.from({ length: 10 }, () => ({ kind: 'status' as const, status: 503 })));
    const before = (await walkRow()).cursor;
    const stopped = await schedulerAs('replica-1').runOnce();
    expect(stopped?.summary?.stopped).toMatch(/Wix is not answering.*503/);
    expect(stopped?.summary?.removed).toBe(0);
    const row = await walkRow();
    expect(row.cursor).toBe(before);
    expect(row.lastStop).toMatch(/503/);
    expect(row.nextRunAt).toBeGreaterThanOrEqual(t.clock.now() + RECONCILE_STOP_BACKOFF_MS - 1);
    wix.fake.clearFaults();
    for (const id of ['old-a', 'old-c', 'old-d', 'fresh-e']) expect((await t.store.installations.get(id))!.status).toBe('active');
  });
});
