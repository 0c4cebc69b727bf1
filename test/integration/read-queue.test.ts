/**
 * Webhooks come first: reads queue for the reader threads, and one that has waited too long is
 * refused with 503 and Retry-After instead of growing a backlog; webhooks are not in that queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRegistry, type TestRegistry } from '../helpers/registry.ts';
import { TEST_ENGINE } from '../helpers/engine.ts';

let t: TestRegistry;
const NOW_SEC = Math.floor(Date.UTC(2026, 10, 1) / 1000);

// SQLite only: the knobs of SQLite's reader threads and their queue (PostgreSQL's read pool
// refuses waits past the same limit; its own tests cover that).
const sqliteOnly = TEST_ENGINE === 'sqlite';

beforeAll(async () => {
  if (!sqliteOnly) return;
  // One reader, and reads may wait 1 ms: a burst of page-of-500 lists queues past that at once.
  t = await createTestRegistry({ now: NOW_SEC * 1000, sqlite: { readers: 1, readQueueMaxWaitMs: 1 } });
  t.sql((db) => {
    const insert = db.prepare(
      `INSERT INTO installations (instance_id, app_id, status, installed_at, installed_at_inferred, last_event_at, first_seen_at, updated_at, site_name)
       VALUES (?, 'app', 'active', ?, 0, ?, ?, ?, ?)`,
    );
    db.transaction(() => {
      for (let n = 0; n < 3_000; n++) insert.run(`queued-${n}`, n * 1000, n * 1000, n * 1000, n * 1000, `Queued site ${n}`);
    })();
  });
});
afterAll(() => t?.close());

describe.runIf(sqliteOnly)('the read queue', () => {
  it('refuses reads that waited too long with 503 and Retry-After; the others answer; webhooks still go through', async () => {
    const reads = Array.from({ length: 40 }, () => t.api('/v1/installations?limit=500'));
    const webhook = t.deliver(
      await t.signer.sign({ eventType: 'AppInstalled', instanceId: 'during-reads', iat: NOW_SEC - 5, data: { appId: 'app' } }),
    );
    const answers = await Promise.all(reads);
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    const refused = answers.filter((r) => r.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.headers.get('retry-after')).toBe('1');
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('unavailable');
    }
    expect((await webhook).status).toBe(200);
    // Once the burst has passed, reads are served again.
    expect((await t.api('/v1/installations?limit=5')).status).toBe(200);
  });
});
