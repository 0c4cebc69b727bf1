/**
 * A 10,000-instance reconcile stays within the configured rate. Wix is a stub that records, on
 * the run's manual clock, when each call starts; the limiter's waits move that clock, so the run
 * takes seconds of real time and the rate is counted exactly: at most RATE calls start in any
 * one-second window. The real-time figures (instances/s through the real store) are printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReconciler } from '../../src/reconcile/reconciler.ts';
import { WixCallError } from '../../src/wix/errors.ts';
import type { InstanceChecks } from '../../src/wix/instance-checks.ts';
import { createTestRegistry, TEST_APP_ID, TEST_APP_SECRET, type TestRegistry } from '../helpers/registry.ts';
import { TEST_ENGINE } from '../helpers/engine.ts';

const INSTANCES = 10_000;
const RATE_PER_SEC = 50;
const REMOVED = new Set(Array.from({ length: 10 }, (_, i) => `rate-${String(i * 997 + 13).padStart(5, '0')}`));

describe(`reconcile: ${INSTANCES.toLocaleString('en')} installations at ${RATE_PER_SEC} calls/s`, () => {
  let t: TestRegistry;
  const site = (id: string) => ({ siteId: `site-${id}`, siteName: `Site ${id}`, siteUrl: null, appVersion: '1.0.0', isFree: true });

  beforeAll(async () => {
    t = await createTestRegistry({ now: Date.UTC(2026, 10, 1) });
    const now = t.clock.now();
    // Seeded straight into the tables, as 10,000 AppInstalled deliveries would leave them.
    const ids = Array.from({ length: INSTANCES }, (_, i) => ({
      id: `rate-${String(i).padStart(5, '0')}`,
      at: now - 30 * 86_400_000 + i * 1000,
    }));
    // PostgreSQL keeps raw JWTs apart (delivery_jwts); the reconciler reads none of them.
    await t.db.runMany(
      TEST_ENGINE === 'sqlite'
        ? `INSERT INTO deliveries (jwt_sha256, jwt, event_type, instance_id, issued_at, received_at, outcome, payload, source)
           VALUES (?, 'seeded', 'AppInstalled', ?, ?, ?, 'applied', '{"data":{}}', 'wix')`
        : `INSERT INTO deliveries (jwt_sha256, event_type, instance_id, issued_at, received_at, outcome, payload, source)
           VALUES (?, 'AppInstalled', ?, ?, ?, 'applied', '{"data":{}}', 'wix')`,
      ids.map(({ id, at }) => [`seed-${id}`, id, at, at]),
    );
    await t.db.runMany(
      `INSERT INTO installations (instance_id, status, installed_at, installed_at_inferred, last_event_at, first_seen_at, updated_at,
         site_id, site_name, site_url, app_version, is_free, site_synced_at)
       VALUES (?, 'active', ?, FALSE, ?, ?, ?, ?, ?, NULL, '1.0.0', TRUE, ?)`,
      ids.map(({ id, at }) => [id, at, at, at, at, `site-${id}`, `Site ${id}`, at]),
    );
  }, 60_000);
  afterAll(() => t.close());

  it('never starts more than the configured calls in any one-second window, and checks every installation', async () => {
    const starts: number[] = [];
    const checks: InstanceChecks = {
      async requestToken(id) {
        starts.push(t.clock.now());
        if (REMOVED.has(id)) throw new WixCallError('refused', `Token request for instance ${id}: Wix answered 403`, { status: 403 });
      },
      async describe(id) {
        starts.push(t.clock.now());
        return site(id);
      },
    };
    const reconciler = createReconciler({
      store: t.store,
      clock: t.clock,
      wix: { appId: TEST_APP_ID, appSecret: TEST_APP_SECRET, wixApiBaseUrl: 'http://127.0.0.1:9' },
      ratePerSec: RATE_PER_SEC,
      maxRemovedShare: 0.5,
      sleep: async (ms) => t.clock.advance(ms),
      checks,
    });

    const startedAt = t.clock.now();
    const realStarted = performance.now();
    const summary = await reconciler.reconcile(reconciler.activeIds());
    const realMs = performance.now() - realStarted;

    expect(summary).toEqual({
      checked: INSTANCES,
      active: INSTANCES - REMOVED.size,
      removed: REMOVED.size,
      updated: 0,
      reinstated: 0,
      failed: 0,
      skipped: 0,
      stopped: null,
    });
    // Each instance: a token and Get App Instance; each removal: the refusal, the control, the second refusal.
    expect(starts).toHaveLength(2 * (INSTANCES - REMOVED.size) + 3 * REMOVED.size);

    // The most calls that started within any one second (a sliding window over the call starts).
    let most = 0;
    for (let first = 0, last = 0; last < starts.length; last++) {
      while (starts[last]! - starts[first]! >= 1000) first++;
      most = Math.max(most, last - first + 1);
    }
    expect(most).toBeLessThanOrEqual(RATE_PER_SEC);
    const simulatedSec = (t.clock.now() - startedAt) / 1000;
    expect(simulatedSec).toBeGreaterThanOrEqual((starts.length - 1) / RATE_PER_SEC);
    console.log(
      `[reconcile-rate] ${starts.length} calls for ${INSTANCES} installations: at most ${most} in any second (limit ${RATE_PER_SEC}); ` +
        `${simulatedSec.toFixed(1)} s on the run's clock (${(starts.length / simulatedSec).toFixed(2)} calls/s); ` +
        `real time ${(realMs / 1000).toFixed(1)} s through the store (${((INSTANCES / realMs) * 1000).toFixed(0)} instances/s when Wix is not the limit)`,
    );

    for (const id of REMOVED) expect((await t.store.installations.get(id))!.status).toBe('removed');
    expect((await t.store.installations.counts()).active).toBe(INSTANCES - REMOVED.size);
  }, 240_000);
});
