import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDailyStats } from '../../src/installations/daily-stats.ts';
import { createTestRegistry, type TestRegistry } from '../helpers/registry.ts';
import { deliverEvent } from './queries-seed.ts';

/**
 * GET /v1/stats/daily on a small history whose every number is worked out by hand below.
 * Window: from=2026-10-01 to=2026-10-06 (exclusive), so the days 10-01 … 10-05.
 */

const at = (iso: string) => Date.parse(iso) / 1000;

let t: TestRegistry;

beforeAll(async () => {
  t = await createTestRegistry({ now: Date.UTC(2026, 9, 7) });
  const install = (id: string, iso: string) => deliverEvent(t, 'AppInstalled', id, at(iso), { appId: 'app', originInstanceId: '' });
  const remove = (id: string, iso: string) => deliverEvent(t, 'AppRemoved', id, at(iso), { appId: 'app' });
  await install('A', '2026-10-01T10:00:00Z');
  await remove('A', '2026-10-01T20:00:00Z'); // 10 h: within 1 day
  await install('B', '2026-10-02T09:00:00Z');
  await remove('B', '2026-10-05T09:00:00Z'); // 3 days: within 7
  await install('C', '2026-10-02T12:00:00Z'); // stays
  await install('D', '2026-09-20T00:00:00Z'); // before the window…
  await remove('D', '2026-10-03T08:00:00Z'); // …removed inside it
  await install('E', '2026-09-25T00:00:00Z'); // before the window, stays
  await install('F', '2026-10-04T00:00:00Z');
  await remove('F', '2026-10-04T00:30:00Z'); // 30 min: within 1 day
  await install('F', '2026-10-05T10:00:00Z'); // reinstalled, stays
  // H's install delivered twice as two different tokens (another exp): one event, counted once.
  const h = { eventType: 'AppInstalled', instanceId: 'H', iat: at('2026-10-03T12:00:00Z'), data: { appId: 'app' } };
  t.clock.set(Date.UTC(2026, 9, 3, 12, 1));
  expect((await t.deliver(await t.signer.sign(h))).status).toBe(200);
  expect((await t.deliver(await t.signer.sign(h, { exp: h.iat + 7200 }))).status).toBe(200);
  await install('I', '2026-10-05T23:59:59Z'); // last second of the window
  await install('J', '2026-10-06T00:00:00Z'); // first second after it
  t.clock.set(Date.UTC(2026, 9, 7));
});
afterAll(() => t.close());

async function daily(qs: string): Promise<{ status: number; body: any }> {
  const res = await t.api(`/v1/stats/daily${qs}`);
  return { status: res.status, body: await res.json() };
}

describe('GET /v1/stats/daily', () => {
  it('counts installs and removals per UTC day, active at each day end, and early churn', async () => {
    const { status, body } = await daily('?from=2026-10-01&to=2026-10-06');
    expect(status).toBe(200);
    expect(body).toEqual({
      from: '2026-10-01',
      to: '2026-10-06',
      days: [
        // end of 10-01: D, E (A came and went)
        { date: '2026-10-01', installs: 1, removals: 1, net: 0, active: 2 },
        // + B, C
        { date: '2026-10-02', installs: 2, removals: 0, net: 2, active: 4 },
        // + H (once, though delivered twice), − D
        { date: '2026-10-03', installs: 1, removals: 1, net: 0, active: 4 },
        // F installed and removed the same day
        { date: '2026-10-04', installs: 1, removals: 1, net: 0, active: 4 },
        // + F again, + I at 23:59:59, − B
        { date: '2026-10-05', installs: 2, removals: 1, net: 1, active: 5 },
      ],
      // Installs in the window: A, B, C, H, F, F again, I = 7. Removed within 1 day: A, F's
      // first install; within 7 days: those and B. F's reinstall is not "removed" by the
      // removal that came before it.
      churn: { removedWithin1Day: 2, removedWithin7Days: 3, removedWithin30Days: 3, installs: 7 },
    });
    expect(body.churn.installs).toBe(body.days.reduce((n: number, d: { installs: number }) => n + d.installs, 0));
  });

  it('a one-day window, and a window before anything happened', async () => {
    expect((await daily('?from=2026-10-05&to=2026-10-06')).body.days).toEqual([
      { date: '2026-10-05', installs: 2, removals: 1, net: 1, active: 5 },
    ]);
    const empty = (await daily('?from=2026-01-01&to=2026-01-03')).body;
    expect(empty.days).toEqual([
      { date: '2026-01-01', installs: 0, removals: 0, net: 0, active: 0 },
      { date: '2026-01-02', installs: 0, removals: 0, net: 0, active: 0 },
    ]);
    expect(empty.churn).toEqual({ removedWithin1Day: 0, removedWithin7Days: 0, removedWithin30Days: 0, installs: 0 });
  });

  it('active carries over from before the window', async () => {
    const { body } = await daily('?from=2026-10-06&to=2026-10-07');
    // C, E, F, H, I, J
    expect(body.days).toEqual([{ date: '2026-10-06', installs: 1, removals: 0, net: 1, active: 6 }]);
  });

  it("defaults to the last 30 days, ending today (UTC) by the registry's clock", async () => {
    const { status, body } = await daily('');
    expect(status).toBe(200);
    expect(body.days).toHaveLength(30);
    expect(body.days[29].date).toBe(new Date(t.clock.now()).toISOString().slice(0, 10));
  });

  it('the same numbers from createDailyStats, with the default window on its own clock', async () => {
    const stats = createDailyStats(t.store, { clock: { now: () => Date.UTC(2026, 9, 5, 15) } });
    const result = await stats.forRange();
    expect(result.from).toBe('2026-09-06');
    expect(result.to).toBe('2026-10-06');
    expect(result.days.slice(-5)).toEqual([
      { date: '2026-10-01', installs: 1, removals: 1, net: 0, active: 2 },
      { date: '2026-10-02', installs: 2, removals: 0, net: 2, active: 4 },
      { date: '2026-10-03', installs: 1, removals: 1, net: 0, active: 4 },
      { date: '2026-10-04', installs: 1, removals: 1, net: 0, active: 4 },
      { date: '2026-10-05', installs: 2, removals: 1, net: 1, active: 5 },
    ]);
    expect(result.days.find((d) => d.date === '2026-09-20')).toEqual({ date: '2026-09-20', installs: 1, removals: 0, net: 1, active: 1 });
  });

  it('active at each day end is what the installations rows say, every day of the history', async () => {
    // The oracle: count the rows themselves (installed before the day ends, not removed before it).
    const from = Date.UTC(2026, 8, 15);
    const to = Date.UTC(2026, 9, 10);
    const { body } = await daily(`?from=${new Date(from).toISOString().slice(0, 10)}&to=${new Date(to).toISOString().slice(0, 10)}`);
    const oracle = (end: number) =>
      t.db.value<number>('SELECT count(*) FROM installations WHERE installed_at < ? AND (removed_at IS NULL OR removed_at >= ?)', [
        end,
        end,
      ]);
    for (const [i, d] of (body.days as { date: string; active: number }[]).entries())
      expect(d.active, d.date).toBe(await oracle(from + (i + 1) * 86_400_000));
    expect(body.days.find((d: { date: string }) => d.date === '2026-10-05').active).toBe(5);
  });

  it('366 days is the longest window', async () => {
    const res = await daily('?from=2025-10-01&to=2026-10-02');
    expect(res.status).toBe(200);
    expect(res.body.days).toHaveLength(366);
  });

  it.each([
    ['?from=2025-10-01&to=2026-10-03', 'at most 366'],
    ['?from=2026-10-05&to=2026-10-05', 'later than from'],
    ['?from=2026-10-06&to=2026-10-01', 'later than from'],
    ['?from=2026-10-01T00:00:00Z', 'from'],
    ['?from=2026-02-30', 'from'],
    ['?to=10/06/2026', 'to'],
    ['?days=30', 'days'],
  ])('%s → 400', async (qs, named) => {
    const { status, body } = await daily(qs);
    expect(status).toBe(400);
    expect(body.error.code).toBe('bad_request');
    expect(body.error.message).toContain(named);
    expect(body.error.requestId).toBeTruthy();
  });

  it('needs the API key', async () => {
    const res = await t.app.request('/v1/stats/daily');
    expect(res.status).toBe(401);
  });

  it('leaves GET /v1/stats as it was', async () => {
    const res = await t.api('/v1/stats');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { installations: unknown }).installations).toEqual({ active: 6, removed: 3 });
  });
});
