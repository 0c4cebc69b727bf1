import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WriteCommand } from '../../src/db/commands.ts';
import { createRetention } from '../../src/installations/retention.ts';
import { createLogger } from '../../src/logger.ts';
import { sha256Hex } from '../../src/webhooks/ingest.ts';
import { createTestRegistry, type TestRegistry } from '../helpers/registry.ts';
import { TEST_ENGINE } from '../helpers/engine.ts';

/**
 * A delivery's raw JWT wherever the engine keeps it: SQLite databases from before delivery_jwts
 * hold it in the delivery row; PostgreSQL's deliveries have no such column.
 */
const RAW_JWT = TEST_ENGINE === 'sqlite' ? 'coalesce(j.jwt, d.jwt)' : "coalesce(j.jwt, '')";

/**
 * Retention (issue 12): after RAW_DELIVERY_RETENTION_DAYS a delivery's raw JWT is dropped, in
 * small batches, while its hash (dedupe), payload (history) and the state stay. Inside the window
 * nothing is touched, so a Wix resend there is compared with the JWT itself and is a duplicate.
 */

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 9, 1, 12, 0);

describe('retention of raw deliveries', () => {
  let t: TestRegistry;
  afterEach(async () => {
    vi.restoreAllMocks();
    await t?.close();
  });

  const sign = (eventType: string, instanceId: string, at = t.clock.now(), data: Record<string, unknown> = {}) =>
    t.signer.sign({ eventType, instanceId, iat: Math.floor(at / 1000), data });
  async function deliver(jwt: string, expected: 'accepted' | 'duplicate' = 'accepted') {
    const res = await t.deliver(jwt);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: expected });
  }
  /** The raw JWT of each delivery, by id, wherever it is kept: '' once pruned. */
  const rawJwts = () =>
    t.db.query<{ id: number; jwt: string }>(
      `SELECT d.id, ${RAW_JWT} AS jwt FROM deliveries d LEFT JOIN delivery_jwts j ON j.delivery_id = d.id ORDER BY d.id`,
    );

  it('keeps every raw JWT inside the window (a resend is still a duplicate) and drops them after it, keeping hash, history and state', async () => {
    t = await createTestRegistry({ now: T0, rawDeliveryRetentionDays: 3 });
    const installed = await sign('AppInstalled', 'ret-1', T0, { appId: 'app-1' });
    await deliver(installed);
    t.clock.set(T0 + DAY);
    const plan = await sign('PaidPlanPurchased', 'ret-1', t.clock.now(), { vendorProductId: 'premium', cycle: 'MONTHLY' });
    await deliver(plan);
    const before = await (await t.api('/v1/installations/ret-1')).json();

    // At the end of the first delivery's window (3 days to the millisecond): nothing goes.
    t.clock.set(T0 + 3 * DAY);
    expect(await t.registry.retention.runOnce()).toMatchObject({ rawJwtsPruned: 0 });
    expect((await rawJwts()).map((r) => r.jwt)).toEqual([installed, plan]);
    await deliver(installed, 'duplicate'); // Wix's last resend comes ~47 h after the first attempt

    // Past 3 days the first one's JWT goes; the second one, a day younger, stays.
    t.clock.set(T0 + 3 * DAY + 1);
    expect(await t.registry.retention.runOnce()).toMatchObject({ rawJwtsPruned: 1, receivedBefore: T0 + 1 });
    expect((await rawJwts()).map((r) => r.jwt)).toEqual(['', plan]);
    const [first, second] = (await t.store.deliveries.list({ instanceId: 'ret-1' })).reverse();
    expect(first).toMatchObject({ eventType: 'AppInstalled', sha256: sha256Hex(installed), jwtPruned: true });
    expect(second).toMatchObject({ eventType: 'PaidPlanPurchased', jwtPruned: false });
    expect(await t.store.deliveries.jwt(first!.id)).toEqual({ jwt: null, receivedAt: T0, source: 'wix' });
    expect(await t.store.deliveries.jwt(second!.id)).toEqual({ jwt: plan, receivedAt: T0 + DAY, source: 'wix' });

    // The history, the state and dedupe are as they were: a late resend is still a duplicate.
    expect(await (await t.api('/v1/installations/ret-1')).json()).toEqual(before);
    await deliver(installed, 'duplicate');
    // Replaying the pruned delivery recomputes from the payloads: nothing to change.
    expect(await t.registry.ingest.replay(first!.id)).toEqual({ instanceId: 'ret-1', changed: false });
    // A new delivery after pruning is stored with its JWT, and folds onto the kept history.
    const removed = await sign('AppRemoved', 'ret-1');
    await deliver(removed);
    expect(
      ((await (await t.api('/v1/installations/ret-1')).json()) as { installation: { status: string; plan: { vendorProductId: string } } })
        .installation,
    ).toMatchObject({
      status: 'removed',
      plan: { vendorProductId: 'premium' },
    });
    expect((await rawJwts()).map((r) => r.jwt)).toEqual(['', plan, removed]);
  });

  it('prunes in small batches, one write command each, oldest first', async () => {
    t = await createTestRegistry({ now: T0 });
    const jwts: string[] = [];
    for (let i = 0; i < 8; i++) {
      t.clock.set(T0 + i * 1_000);
      jwts.push(await sign('AppInstalled', `batch-${i}`));
      await deliver(jwts.at(-1)!);
    }
    t.clock.set(T0 + 40 * DAY);
    jwts.push(await sign('AppInstalled', 'batch-fresh'));
    await deliver(jwts.at(-1)!);
    const commands: WriteCommand[] = [];
    const write = t.store.write.bind(t.store);
    vi.spyOn(t.store, 'write').mockImplementation((command) => (commands.push(command), write(command)));
    const retention = createRetention({
      store: t.store,
      clock: t.clock,
      logger: createLogger('silent'),
      rawDeliveryRetentionDays: 30,
      batchRows: 3,
      batchPauseMs: 0,
    });
    const result = await retention.runOnce();
    expect(result).toMatchObject({ rawJwtsPruned: 8, batches: 3 });
    const prunes = commands.filter((c) => c.kind === 'pruneRawJwts');
    expect(prunes).toHaveLength(3);
    expect(prunes.every((c) => c.kind === 'pruneRawJwts' && c.limit === 3)).toBe(true);
    expect((await rawJwts()).map((r) => r.jwt)).toEqual([...Array<string>(8).fill(''), jwts[8]]);
    // Nothing more is due: one batch finds that out.
    expect(await retention.runOnce()).toMatchObject({ rawJwtsPruned: 0, batches: 1 });
  });

  it('never drops a JWT still inside the window, even one stored after a younger delivery', async () => {
    t = await createTestRegistry({ now: T0 });
    for (let i = 0; i < 5; i++) await deliver(await sign('AppInstalled', `order-${i}`));
    // Receive times by id: old, old, young, old, young (a clock that stepped, a replica's clock).
    const received = [T0 - 40 * DAY, T0 - 39 * DAY, T0 - 10 * DAY, T0 - 38 * DAY, T0 - 9 * DAY];
    await t.db.runMany(
      'UPDATE deliveries SET received_at = ? WHERE id = ?',
      received.map((at, i) => [at, i + 1]),
    );
    const retention = createRetention({
      store: t.store,
      clock: t.clock,
      logger: createLogger('silent'),
      rawDeliveryRetentionDays: 30,
      batchRows: 2,
      batchPauseMs: 0,
    });
    await retention.runOnce();
    expect((await rawJwts()).map((r) => r.jwt === '')).toEqual([true, true, false, false, false]);
    // Once the third is old too, the walk goes on past it.
    t.clock.set(T0 + 21 * DAY);
    await retention.runOnce();
    expect((await rawJwts()).map((r) => r.jwt === '')).toEqual([true, true, true, true, false]);
  });

  // SQLite only: pages and the freelist of SQLite's file.
  it.runIf(TEST_ENGINE === 'sqlite')('gives whole pages back for new rows of any table, without a VACUUM', async () => {
    t = await createTestRegistry({ now: T0 });
    const filler = 'x'.repeat(3_000); // a JWT-sized payload, so each one fills most of a page
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) =>
        deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId: `page-${i}`, iat: Math.floor(T0 / 1000), data: { filler } })),
      ),
    );
    const pages = () =>
      t.sql((db) => ({
        total: db.pragma('page_count', { simple: true }) as number,
        free: db.pragma('freelist_count', { simple: true }) as number,
      }));
    const before = pages();
    t.clock.set(T0 + 31 * DAY);
    expect(await t.registry.retention.runOnce()).toMatchObject({ rawJwtsPruned: 200 });
    const after = pages();
    expect(t.sql((db) => db.prepare('SELECT count(*) FROM delivery_jwts').pluck().get())).toBe(0);
    expect(after.total).toBe(before.total);
    // ~4.5 KB JWTs: most of 200+ pages are free now, and SQLite hands them to the next rows it writes.
    expect(after.free - before.free).toBeGreaterThanOrEqual(150);
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) =>
        deliver(
          await t.signer.sign({
            eventType: 'AppInstalled',
            instanceId: `reuse-${i}`,
            iat: Math.floor(t.clock.now() / 1000),
            data: { filler },
          }),
        ),
      ),
    );
    expect(pages().total).toBe(after.total);
  });

  // SQLite only: databases from before delivery_jwts are SQLite files (PostgreSQL started with it).
  it.runIf(TEST_ENGINE === 'sqlite')(
    'prunes a delivery stored before delivery_jwts existed (its JWT kept in the delivery row) the same way',
    async () => {
      t = await createTestRegistry({ now: T0 });
      const old = await sign('AppInstalled', 'legacy-1');
      await deliver(old);
      // As a database migrated from an earlier version holds it.
      t.sql((db) => {
        db.prepare('UPDATE deliveries SET jwt = (SELECT jwt FROM delivery_jwts WHERE delivery_id = deliveries.id)').run();
        db.prepare('DELETE FROM delivery_jwts').run();
      });
      const [row] = await t.store.deliveries.list({});
      expect(row).toMatchObject({ instanceId: 'legacy-1', jwtPruned: false });
      expect(await t.store.deliveries.jwt(row!.id)).toEqual({ jwt: old, receivedAt: T0, source: 'wix' });
      t.clock.set(T0 + 31 * DAY);
      expect(await t.registry.retention.runOnce()).toMatchObject({ rawJwtsPruned: 1 });
      expect(await t.store.deliveries.jwt(row!.id)).toEqual({ jwt: null, receivedAt: T0, source: 'wix' });
      expect((await t.store.deliveries.list({}))[0]).toMatchObject({ jwtPruned: true });
      await deliver(old, 'duplicate');
    },
  );

  it('deletes expired dashboard sessions', async () => {
    t = await createTestRegistry({ now: T0 });
    await t.store.write({
      kind: 'createSession',
      session: { idHash: 'a'.repeat(64), apiKeyId: 'key_000000000001', createdAt: T0, expiresAt: T0 + 1_000 },
    });
    await t.store.write({
      kind: 'createSession',
      session: { idHash: 'b'.repeat(64), apiKeyId: 'key_000000000001', createdAt: T0, expiresAt: T0 + DAY },
    });
    t.clock.set(T0 + 1_000);
    expect(await t.registry.retention.runOnce()).toMatchObject({ sessionsDeleted: 1 });
    expect((await t.store.sessions.list()).map((s) => s.idHash)).toEqual(['b'.repeat(64)]);
  });

  it('the CLI: `deliveries prune`, `deliveries list` shows what was pruned, `replay --url` refuses a pruned one and says what works', async () => {
    const now = Date.now();
    t = await createTestRegistry({ now: now - 40 * DAY });
    await deliver(await sign('AppInstalled', 'cli-old'));
    t.clock.set(now);
    const fresh = await sign('AppInstalled', 'cli-fresh');
    await deliver(fresh);
    const cli = (...args: string[]) => t.cli(...args);
    expect(await cli('deliveries', 'prune')).toMatch(
      /^dropped the raw JWT of 1 delivery received before \S+ \(RAW_DELIVERY_RETENTION_DAYS=30\) in 1 batch\(es\)/,
    );
    const listed = JSON.parse(await cli('deliveries', 'list', '--json')) as { id: number; instanceId: string; jwtPruned: boolean }[];
    expect(listed.map((d) => [d.instanceId, d.jwtPruned])).toEqual([
      ['cli-fresh', false],
      ['cli-old', true],
    ]);
    expect(await cli('deliveries', 'list')).toMatch(/cli-old\s.*\sapplied\s+pruned\n/);
    const oldId = listed[1]!.id;
    const refused = await cli('deliveries', 'replay', String(oldId), '--url', 'http://127.0.0.1:9/webhooks/wix').catch(
      (err: { code: number; stderr: string }) => err,
    );
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('its raw JWT was pruned after RAW_DELIVERY_RETENTION_DAYS') });
    expect((refused as { stderr: string }).stderr).toContain(`deliveries replay ${oldId}\` (without --url)`);
    expect(await cli('deliveries', 'replay', String(oldId))).toContain('state already matches its history');
    expect(await cli('deliveries', 'prune', '--help')).toContain('RAW_DELIVERY_RETENTION_DAYS');
    expect((await rawJwts()).map((r) => r.jwt)).toEqual(['', fresh]);
  });
});
