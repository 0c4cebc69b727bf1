/**
 * The per-day summary behind GET /v1/stats/daily is kept by difference as deliveries arrive
 * (src/installations/daily-summary.ts). Whatever order the events arrive in, and with resends and
 * duplicates mixed in, it must equal what the whole history says, computed here independently:
 * - installs / removals: distinct (instance, iat) per type per UTC day;
 * - churn: an install ended by the instance's next removal less than 1, 7, 30 days later, with no
 *   other install in between;
 * - active at a day's end: rows installed before it and not removed before it.
 * And the SQL that fills the summary for an existing database when migrating
 * (migrations/sqlite/0008) must agree with it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQLITE_MIGRATIONS_DIR } from '../../src/db/sqlite/migrate.ts';
import { createTestRegistry, withSqlite, type TestRegistry } from '../helpers/registry.ts';
import { TEST_ENGINE } from '../helpers/engine.ts';
import { seededRandom, shuffle } from '../reliability/support.ts';

const DAY = 86_400;
const START = Date.UTC(2026, 5, 1) / 1000;
const SEED = 20261126;

interface Ev {
  eventType: 'AppInstalled' | 'AppRemoved';
  instanceId: string;
  iat: number;
}

let t: TestRegistry;
const events: Ev[] = [];

beforeAll(async () => {
  t = await createTestRegistry({ now: (START + 120 * DAY) * 1000 });
  const random = seededRandom(SEED);
  for (let i = 0; i < 40; i++) {
    const instanceId = `summary-${i}`;
    let at = START + Math.floor(random() * 60) * DAY + Math.floor(random() * DAY);
    const spells = 1 + Math.floor(random() * 3);
    for (let s = 0; s < spells; s++) {
      events.push({ eventType: 'AppInstalled', instanceId, iat: at });
      // Some installs last hours, some days, some weeks; some are never removed.
      if (random() < 0.75) {
        at += Math.floor(random() * (random() < 0.5 ? DAY : 40 * DAY));
        events.push({ eventType: 'AppRemoved', instanceId, iat: at });
        at += Math.floor(random() * 10 * DAY) + 1;
      } else break;
    }
  }
  // Resends (the same JWT again) and duplicates (the same event signed again): neither may count twice.
  const tokens: string[] = [];
  for (const e of events) {
    // Valid for the whole test (the registry's clock is set after every event).
    tokens.push(await t.signer.sign({ ...e, data: { appId: 'app' } }, { exp: e.iat + 400 * DAY }));
    if (random() < 0.2) tokens.push(await t.signer.sign({ ...e, data: { appId: 'app' } }, { exp: e.iat + 401 * DAY }));
  }
  for (const token of shuffle([...tokens, ...tokens.filter(() => random() < 0.2)], random)) {
    const res = await t.deliver(token);
    expect(res.status).toBe(200);
  }
}, 120_000);
afterAll(() => t.close());

const dayOf = (sec: number) => Math.floor(sec / DAY);

/** The figures straight from the events, as the contract defines them. */
function oracle() {
  const perDay = new Map<number, { installs: number; removals: number; churn1d: number; churn7d: number; churn30d: number }>();
  const at = (day: number) => {
    let entry = perDay.get(day);
    if (!entry) perDay.set(day, (entry = { installs: 0, removals: 0, churn1d: 0, churn7d: 0, churn30d: 0 }));
    return entry;
  };
  const byInstance = new Map<string, Ev[]>();
  for (const e of events) byInstance.set(e.instanceId, [...(byInstance.get(e.instanceId) ?? []), e]);
  for (const list of byInstance.values()) {
    const installs = [...new Set(list.filter((e) => e.eventType === 'AppInstalled').map((e) => e.iat))].sort((a, b) => a - b);
    const removals = [...new Set(list.filter((e) => e.eventType === 'AppRemoved').map((e) => e.iat))].sort((a, b) => a - b);
    for (const r of removals) at(dayOf(r)).removals++;
    installs.forEach((start, k) => {
      at(dayOf(start)).installs++;
      const next = installs[k + 1] ?? Infinity;
      const removal = removals.find((r) => r >= start);
      if (removal === undefined || removal >= next) return;
      if (removal - start < DAY) at(dayOf(start)).churn1d++;
      if (removal - start < 7 * DAY) at(dayOf(start)).churn7d++;
      if (removal - start < 30 * DAY) at(dayOf(start)).churn30d++;
    });
  }
  return perDay;
}

const iso = (sec: number) => new Date(sec * 1000).toISOString().slice(0, 10);

describe('the per-day summary', () => {
  it('equals what the whole history says, whatever the arrival order, resends and duplicates', async () => {
    const from = START - 5 * DAY;
    const to = START + 120 * DAY;
    const res = await t.api(`/v1/stats/daily?from=${iso(from)}&to=${iso(to)}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      days: { date: string; installs: number; removals: number; active: number }[];
      churn: Record<string, number>;
    };
    const expected = oracle();
    const activeAt = (endSec: number) =>
      t.db.value<number>('SELECT count(*) FROM installations WHERE installed_at < ? AND (removed_at IS NULL OR removed_at >= ?)', [
        endSec * 1000,
        endSec * 1000,
      ]);
    for (const [i, day] of body.days.entries()) {
      const d = dayOf(from) + i;
      const e = expected.get(d);
      expect({ installs: day.installs, removals: day.removals }, day.date).toEqual({
        installs: e?.installs ?? 0,
        removals: e?.removals ?? 0,
      });
      expect(day.active, day.date).toBe(await activeAt((d + 1) * DAY));
    }
    const churn = [...expected.values()].reduce(
      (sum, e) => ({ d1: sum.d1 + e.churn1d, d7: sum.d7 + e.churn7d, d30: sum.d30 + e.churn30d, installs: sum.installs + e.installs }),
      { d1: 0, d7: 0, d30: 0, installs: 0 },
    );
    expect(body.churn).toEqual({
      removedWithin1Day: churn.d1,
      removedWithin7Days: churn.d7,
      removedWithin30Days: churn.d30,
      installs: churn.installs,
    });
    expect(churn.d1).toBeGreaterThan(0);
    expect(churn.installs).toBeGreaterThan(40);
  });

  // SQLite only: migration 0008's backfill is SQLite SQL, run on a copy of the file.
  it.runIf(TEST_ENGINE === 'sqlite')('the SQL that fills it when an existing database is migrated gives the same summary', () => {
    // The backfill statements of migration 0008, run on a copy whose summary is emptied first.
    const copy = join(t.dir, 'backfill.db');
    withSqlite(t.dbPath, (db) => db.prepare('VACUUM INTO ?').run(copy));
    const migration = readFileSync(join(SQLITE_MIGRATIONS_DIR, '0008_history_payloads_summary_and_search.sql'), 'utf8');
    const backfill = migration
      .split('--> statement-breakpoint')
      .map((statement) => statement.trim())
      .filter((statement) => /INSERT INTO daily_summary/.test(statement) && !/CREATE TRIGGER/.test(statement));
    expect(backfill).toHaveLength(5);
    const read = (path: string) =>
      withSqlite(path, (db) =>
        db
          .prepare(
            'SELECT * FROM daily_summary WHERE installs OR removals OR active_delta OR churn_1d OR churn_7d OR churn_30d ORDER BY day',
          )
          .all(),
      );
    const kept = read(t.dbPath);
    withSqlite(copy, (db) => {
      db.exec('DELETE FROM daily_summary');
      for (const statement of backfill) db.exec(statement);
    });
    expect(read(copy)).toEqual(kept);
  });
});
