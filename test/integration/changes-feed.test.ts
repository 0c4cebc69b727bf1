import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Change } from '../../src/changes/serialize.ts';
import { createTestRegistry, TEST_API_KEY, type TestRegistry } from '../helpers/registry.ts';

/**
 * GET /v1/changes: pages in commit order with cursors that continue exactly where a page ended
 * (across restarts too), and long-polls answered by the commit itself.
 */

interface Page {
  items: Change[];
  nextCursor: string;
}

describe('GET /v1/changes', () => {
  let t: TestRegistry;
  const T0 = Date.UTC(2026, 10, 1, 12);
  let iat = Math.floor(T0 / 1000);
  beforeEach(async () => {
    t = await createTestRegistry({
      now: T0 + 3_600_000,
      apiKeys: [TEST_API_KEY, { key: 'tokens-only-key-0123456789', scopes: ['tokens'] }],
    });
  });
  afterEach(() => t.close());

  const install = async (instanceId: string) => {
    const res = await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId, iat: iat++ }));
    expect(res.status).toBe(200);
  };
  const get = async (query: string, init?: RequestInit): Promise<Page> => {
    const res = await t.api(`/v1/changes${query}`, init);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as Page;
  };

  it('an empty feed is an empty page whose nextCursor is a string to pass back', async () => {
    const page = await get('');
    expect(page.items).toEqual([]);
    expect(typeof page.nextCursor).toBe('string');
    await install('a');
    const next = await get(`?after=${page.nextCursor}`);
    expect(next.items.map((c) => c.instanceId)).toEqual(['a']);
  });

  it('paging with every limit from 1 to the total returns exactly the full list, in commit order', async () => {
    const ids = Array.from({ length: 13 }, (_, i) => `inst-${String(i).padStart(2, '0')}`);
    for (const id of ids) await install(id);
    const full = (await get('?limit=1000')).items;
    expect(full.map((c) => c.instanceId)).toEqual(ids);
    for (let limit = 1; limit <= ids.length + 1; limit++) {
      const seen: Change[] = [];
      let cursor: string | null = null;
      for (let round = 0; round < 100; round++) {
        const page: Page = await get(`?limit=${limit}${cursor ? `&after=${cursor}` : ''}`);
        expect(typeof page.nextCursor).toBe('string');
        expect(page.items.length).toBeLessThanOrEqual(limit);
        if (page.items.length === 0) {
          expect(page.nextCursor).toBe(cursor); // an empty page stays where it is
          break;
        }
        seen.push(...page.items);
        cursor = page.nextCursor;
      }
      expect(seen, `limit=${limit}`).toEqual(full);
    }
  });

  it('a cursor resumes exactly where its page ended across a restart of the registry', async () => {
    for (const id of ['a', 'b', 'c']) await install(id);
    const first = await get('?limit=2');
    expect(first.items.map((c) => c.instanceId)).toEqual(['a', 'b']);
    await t.restart();
    await install('d');
    const rest = await get(`?after=${first.nextCursor}`);
    expect(rest.items.map((c) => c.instanceId)).toEqual(['c', 'd']);
    // The changes themselves are the same before and after (never edited).
    expect((await get('?limit=2')).items).toEqual(first.items);
  });

  it('refuses what is not a cursor of this feed, bad limits and waits, and keys without the read scope', async () => {
    await install('a');
    const page = await get('');
    const ahead = Buffer.from(JSON.stringify(['changes', 99])).toString('base64url');
    for (const qs of [`after=${ahead}`, 'after=abc', 'limit=0', 'limit=1001', 'limit=1.5', 'wait=61', 'wait=1.5', 'cursor=x']) {
      const res = await t.api(`/v1/changes?${qs}`);
      expect(res.status, qs).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('bad_request');
    }
    expect((await t.app.request('/v1/changes')).status).toBe(401);
    expect((await t.app.request('/v1/changes', { headers: { authorization: 'Bearer tokens-only-key-0123456789' } })).status).toBe(403);
    expect((await get(`?after=${page.nextCursor}&wait=0`)).items).toEqual([]);
  });

  it('a long-poll is answered by the commit itself, long before its wait would end', async () => {
    const { nextCursor } = await get('');
    const WAIT_SEC = 30;
    const order: string[] = [];
    const polling = get(`?after=${nextCursor}&wait=${WAIT_SEC}`).then((page) => {
      order.push('answered');
      return page;
    });
    // Generous margin: the answer must come by the commit, not by a timer of the wait's length.
    const waitTimer = new Promise<void>((resolve) =>
      setTimeout(() => (order.push('wait elapsed'), resolve()), (WAIT_SEC * 1000) / 3).unref(),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(order).toEqual([]); // still held: nothing has committed
    await install('woken');
    const page = await polling;
    expect(page.items.map((c) => c.instanceId)).toEqual(['woken']);
    expect(order).toEqual(['answered']);
    void waitTimer;
  });

  it('a long-poll with nothing committed ends empty when its wait ends, at the same cursor', async () => {
    const { nextCursor } = await get('');
    const started = performance.now();
    const page = await get(`?after=${nextCursor}&wait=1`);
    expect(page).toEqual({ items: [], nextCursor });
    expect(performance.now() - started).toBeGreaterThanOrEqual(900); // it did wait (a lower bound, not a speed claim)
  });

  it('a commit that appends no change (a resend) does not end a long-poll early; the next change does', async () => {
    await install('a');
    const token = await t.signer.sign({ eventType: 'InvoiceStatusUpdated', instanceId: 'a', iat: iat++ });
    const { nextCursor } = await get('');
    let answered = false;
    const polling = get(`?after=${nextCursor}&wait=30`).then((page) => ((answered = true), page));
    await t.deliver(token); // stored, no change
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answered).toBe(false);
    await install('b');
    expect((await polling).items.map((c) => c.instanceId)).toEqual(['b']);
  });

  it('shutting down answers held long-polls at once, with an empty page', async () => {
    const { nextCursor } = await get('');
    const polling = get(`?after=${nextCursor}&wait=60`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    t.registry.beginShutdown();
    expect(await polling).toEqual({ items: [], nextCursor });
  });

  it('a client that hangs up ends its long-poll (its subscription is dropped)', async () => {
    const { nextCursor } = await get('');
    const controller = new AbortController();
    const request = new Request(`http://registry.test/v1/changes?after=${nextCursor}&wait=60`, {
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
      signal: controller.signal,
    });
    const answer = t.app.fetch(request);
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    const res = await answer;
    expect(res.status).toBe(200);
    expect(((await res.json()) as Page).items).toEqual([]);
  });
});
