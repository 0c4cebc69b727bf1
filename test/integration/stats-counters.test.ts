import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestRegistry, type TestRegistry } from '../helpers/registry.ts';

describe('GET /v1/stats reads trigger-maintained counters that always equal the real counts', () => {
  let t: TestRegistry;
  beforeEach(async () => {
    t = await createTestRegistry();
  });
  afterEach(() => t.close());

  const realCounts = async () => {
    const rows = async (table: string) =>
      Object.fromEntries(
        (await t.db.query<{ status: string; n: number }>(`SELECT status, count(*) AS n FROM ${table} GROUP BY status`)).map((r) => [
          r.status,
          r.n,
        ]),
      );
    return { installations: await rows('installations'), outbox: await rows('outbox_jobs') };
  };

  it('through installs, removals, reinstalls, cancellations, deletes and direct updates', async () => {
    const T0 = Math.floor(t.clock.now() / 1000);
    for (let i = 0; i < 30; i++) {
      await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId: `c${i}`, iat: T0 + i }));
      if (i % 3 === 0) await t.deliver(await t.signer.sign({ eventType: 'AppRemoved', instanceId: `c${i}`, iat: T0 + 100 + i }));
      if (i % 6 === 0) await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId: `c${i}`, iat: T0 + 200 + i }));
    }
    await t.db.run(`UPDATE installations SET status = 'removed' WHERE instance_id = 'c1'`);
    await t.db.run(`DELETE FROM installations WHERE instance_id = 'c2'`);
    await t.db.run(`UPDATE outbox_jobs SET status = 'dead' WHERE id IN (SELECT id FROM outbox_jobs WHERE status = 'pending' LIMIT 3)`);

    const stats = (await (await t.api('/v1/stats')).json()) as { installations: Record<string, number>; outbox: Record<string, number> };
    const real = await realCounts();
    expect(stats.installations).toEqual({ active: real.installations.active ?? 0, removed: real.installations.removed ?? 0 });
    expect(stats.installations.active! + stats.installations.removed!).toBe(29);
    for (const status of ['pending', 'running', 'done', 'dead', 'cancelled']) expect(stats.outbox[status]).toBe(real.outbox[status] ?? 0);
    expect(stats.outbox.dead).toBe(3);
    expect(stats.outbox.cancelled).toBeGreaterThan(0);
  });
});
