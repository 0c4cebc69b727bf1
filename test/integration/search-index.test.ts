/**
 * The search index is kept off the webhook path (migration 0011, src/db/sqlite/search-index.ts):
 * a new installation is only noted as pending, the writer indexes pending rows when idle, and
 * searches read pending rows directly. Whatever the index has caught up with, answers are the
 * same, and the FTS index agrees with the table (FTS5's own integrity check).
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSearchIndexer } from '../../src/db/sqlite/search-index.ts';
import { createTestRegistry, type TestRegistry } from '../helpers/registry.ts';
import { TEST_ENGINE } from '../helpers/engine.ts';
import { deliverEvent, NOW_MS } from './queries-seed.ts';

let t: TestRegistry;
const BASE = Math.floor(Date.UTC(2026, 9, 1) / 1000);

// SQLite only: FTS5 and the indexer of SQLite's writer thread (PostgreSQL searches through a
// pg_trgm index kept by PostgreSQL itself; the list tests search on both engines).
const sqliteOnly = TEST_ENGINE === 'sqlite';

beforeAll(async () => {
  if (sqliteOnly) t = await createTestRegistry({ now: NOW_MS });
});
afterAll(() => t?.close());

const search = async (q: string) =>
  ((await (await t.api(`/v1/installations?limit=500&q=${encodeURIComponent(q)}`)).json()) as { items: { instanceId: string }[] }).items
    .map((i) => i.instanceId)
    .sort();
const pending = () => t.sql((db) => db.prepare('SELECT count(*) FROM search_pending').pluck().get()) as number;
const ftsIntact = () =>
  t.sql((db) => {
    // Throws SQLITE_CORRUPT_VTAB when the index and the table disagree.
    db.prepare(`INSERT INTO installations_search (installations_search, rank) VALUES ('integrity-check', 1)`).run();
    return true;
  });
/** Indexes every pending row now, on a connection of the test's own (the writer would when idle). */
const indexAll = () =>
  t.sql((db: Database.Database) => {
    const indexer = createSearchIndexer(db);
    while (indexer.indexSlice(7) > 0);
  });
const setSite = (instanceId: string, name: string) =>
  t.sql((db) => db.prepare('UPDATE installations SET site_name = ? WHERE instance_id = ?').run(name, instanceId));

describe.runIf(sqliteOnly)('the search index off the webhook path', () => {
  it('finds new installations before and after they are indexed, and follows site changes either way', async () => {
    for (let i = 0; i < 20; i++)
      await deliverEvent(t, 'AppInstalled', `search-${String(i).padStart(2, '0')}-abcdef`, BASE + i * 60, { appId: 'app' });
    // The test's clock is manual and the writer indexes only when idle for a moment: some may be pending.
    setSite('search-03-abcdef', 'Pending Pottery');
    expect(await search('abcdef')).toHaveLength(20);
    expect(await search('search-03')).toEqual(['search-03-abcdef']);
    expect(await search('pottery')).toEqual(['search-03-abcdef']);

    indexAll();
    expect(pending()).toBe(0);
    expect(ftsIntact()).toBe(true);
    expect(await search('abcdef')).toHaveLength(20);
    expect(await search('pottery')).toEqual(['search-03-abcdef']);

    // An indexed row whose site changes is re-indexed at once (trigger), and the old words are gone.
    setSite('search-03-abcdef', 'Weaving Workshop');
    expect(await search('pottery')).toEqual([]);
    expect(await search('weaving')).toEqual(['search-03-abcdef']);
    expect(ftsIntact()).toBe(true);

    // A new row changed before it is indexed is indexed later with its current values.
    await deliverEvent(t, 'AppInstalled', 'search-late-abcdef', BASE + 3600, { appId: 'app' });
    setSite('search-late-abcdef', 'Late Lanterns');
    expect(await search('lanterns')).toEqual(['search-late-abcdef']);
    indexAll();
    expect(await search('lanterns')).toEqual(['search-late-abcdef']);
    expect(ftsIntact()).toBe(true);

    // Deleting rows, pending or indexed, leaves the index consistent.
    await deliverEvent(t, 'AppInstalled', 'search-gone-abcdef', BASE + 7200, { appId: 'app' });
    t.sql((db) => db.prepare(`DELETE FROM installations WHERE instance_id IN ('search-gone-abcdef', 'search-04-abcdef')`).run());
    expect(pending()).toBe(0);
    expect(ftsIntact()).toBe(true);
    const left = await search('abcdef');
    expect(left).toHaveLength(20); // 20 first ones − search-04 + search-late
    expect(left).not.toContain('search-04-abcdef');
    expect(left).not.toContain('search-gone-abcdef');
  });

  it('the writer thread indexes pending rows by itself once it is idle', async () => {
    await deliverEvent(t, 'AppInstalled', 'search-idle-abcdef', BASE + 9000, { appId: 'app' });
    // Only the writer's idle work empties the backlog now (nothing else indexes in this test).
    for (let i = 0; i < 100 && pending() > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(pending()).toBe(0);
    expect(ftsIntact()).toBe(true);
    expect(await search('search-idle')).toEqual(['search-idle-abcdef']);
  });
});
