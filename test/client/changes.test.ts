import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRegistryClient, RegistryError, type ChangeEntry, type FollowChangesOptions } from '../../client/src/index.ts';
import { startFakeChanges, type FakeChanges } from '../helpers/fake-changes.ts';

const API_KEY = 'client-test-key-0123456789';

let feed: FakeChanges;
beforeEach(async () => {
  feed = await startFakeChanges({ apiKey: API_KEY });
});
afterEach(() => feed.close());

const client = (apiKey = API_KEY) => createRegistryClient({ url: feed.url, apiKey });

/** Follows until `count` changes were yielded (or the follower ends), then stops it. */
async function take(count: number, options: FollowChangesOptions = {}, apiKey = API_KEY): Promise<ChangeEntry[]> {
  const seen: ChangeEntry[] = [];
  if (count === 0) return seen;
  for await (const entry of client(apiKey).changes({ waitSeconds: 5, ...options })) {
    seen.push(entry);
    if (seen.length === count) break;
  }
  return seen;
}

describe('registry.changes(): following GET /v1/changes', () => {
  it('yields every change in commit order, page by page, each with the cursor to save once it is handled', async () => {
    for (let i = 0; i < 7; i++) feed.append();
    const seen = await take(7, { limit: 3 });
    expect(seen.map((e) => e.change.id)).toEqual(['chg-1', 'chg-2', 'chg-3', 'chg-4', 'chg-5', 'chg-6', 'chg-7']);
    // Exact after the last change of a page; the page's start for the others.
    expect(seen.map((e) => e.cursor)).toEqual([null, null, 'c3', 'c3', 'c3', 'c6', 'c7']);
    expect(feed.requests.map((r) => [r.after, r.limit, r.wait])).toEqual([
      [null, 3, 5],
      ['c3', 3, 5],
      ['c6', 3, 5],
    ]);
    expect(feed.requests.every((r) => r.authorization === `Bearer ${API_KEY}`)).toBe(true);
  });

  it('resumes from a saved cursor: nothing is skipped, and nothing handled is repeated after a page end', async () => {
    for (let i = 0; i < 7; i++) feed.append();
    // A process that handles changes, saves each cursor, and stops after the third (a page end).
    const first = await take(3, { limit: 3 });
    const saved = first.at(-1)!.cursor;
    const rest = await take(4, { limit: 3, after: saved });
    expect([...first, ...rest].map((e) => e.change.id)).toEqual(['chg-1', 'chg-2', 'chg-3', 'chg-4', 'chg-5', 'chg-6', 'chg-7']);

    // Stopped mid-page (after chg-5, cursor c3): the page's earlier changes come again, none is lost.
    const midPage = await take(2, { limit: 3, after: 'c3' });
    expect(midPage.map((e) => [e.change.id, e.cursor])).toEqual([
      ['chg-4', 'c3'],
      ['chg-5', 'c3'],
    ]);
    const again = await take(4, { limit: 3, after: midPage.at(-1)!.cursor });
    expect(again.map((e) => e.change.id)).toEqual(['chg-4', 'chg-5', 'chg-6', 'chg-7']);
  });

  it('long-polls: a request with nothing to return is held until a change commits, and that change is yielded', async () => {
    const following = take(1, { waitSeconds: 30 });
    await vi.waitFor(() => expect(feed.held()).toBe(1));
    const change = feed.append('installation.plan_changed', 'held-1');
    const [entry] = await following;
    expect(entry?.change).toEqual(change);
    expect(entry?.cursor).toBe('c1');
    // One request, answered by the commit rather than by the end of its 30 s wait.
    expect(feed.requests).toHaveLength(1);
    expect(feed.requests[0]?.wait).toBe(30);
  });

  it('after a long-poll that ended empty, polls again from its nextCursor', async () => {
    feed.append();
    const following = take(2, { waitSeconds: 1 });
    // The first request returns chg-1; the second waits 1 s and ends empty; the third is held.
    await vi.waitFor(() => expect(feed.requests.length).toBeGreaterThanOrEqual(3), { timeout: 5_000 });
    feed.append();
    const seen = await following;
    expect(seen.map((e) => e.change.id)).toEqual(['chg-1', 'chg-2']);
    expect(feed.requests.slice(0, 3).map((r) => r.after)).toEqual([null, 'c1', 'c1']);
  });

  it('retries a 500, a 429 (no sooner than its Retry-After) and a dropped connection with growing jittered waits, then carries on', async () => {
    feed.append();
    feed.fail({ kind: 'status', status: 500 }, { kind: 'status', status: 429, retryAfter: '1' }, { kind: 'drop' });
    const retries: { kind: string; status: number | undefined; failures: number; delayMs: number }[] = [];
    const seen = await take(1, {
      backoff: { baseMs: 10, capMs: 40 },
      random: () => 0.5,
      onRetry: ({ error, failures, delayMs }) => retries.push({ kind: error.kind, status: error.status, failures, delayMs }),
    });
    expect(seen.map((e) => e.change.id)).toEqual(['chg-1']);
    expect(retries).toEqual([
      { kind: 'unavailable', status: 500, failures: 1, delayMs: 8 }, // 10 ms, half of it jittered: 7.5
      { kind: 'unavailable', status: 429, failures: 2, delayMs: 1_000 }, // 15 ms by the backoff, but Retry-After: 1 s
      { kind: 'network', status: undefined, failures: 3, delayMs: 30 }, // 40 ms (the cap), jittered
    ]);
    expect(feed.requests).toHaveLength(4);
  });

  it('starts the backoff over after a success', async () => {
    feed.append();
    feed.append();
    feed.fail({ kind: 'status', status: 503 }, { kind: 'status', status: 503 });
    const retries: number[] = [];
    const options: FollowChangesOptions = {
      limit: 1,
      backoff: { baseMs: 10, capMs: 1_000 },
      random: () => 0,
      onRetry: (r) => retries.push(r.delayMs),
    };
    const follower = client().changes({ waitSeconds: 5, ...options });
    expect((await follower.next()).value).toMatchObject({ change: { id: 'chg-1' } });
    feed.fail({ kind: 'status', status: 503 });
    expect((await follower.next()).value).toMatchObject({ change: { id: 'chg-2' } });
    await follower.return();
    expect(retries).toEqual([5, 10, 5]);
  });

  it('stops quietly when the signal aborts during a held long-poll, closing the request', async () => {
    const controller = new AbortController();
    const following = take(1, { waitSeconds: 60, signal: controller.signal });
    await vi.waitFor(() => expect(feed.held()).toBe(1));
    controller.abort();
    expect(await following).toEqual([]);
    await vi.waitFor(() => expect(feed.held()).toBe(0));
  });

  it('stops quietly when the signal aborts during a backoff', async () => {
    const controller = new AbortController();
    feed.fail({ kind: 'status', status: 500 });
    // A one-minute backoff: only the abort can end this test before its timeout.
    const following = take(1, { signal: controller.signal, backoff: { baseMs: 60_000, capMs: 60_000 }, onRetry: () => controller.abort() });
    expect(await following).toEqual([]);
    expect(feed.requests).toHaveLength(1);
  });

  it('stops between two changes of one page when the signal aborts while the first is handled', async () => {
    for (let i = 0; i < 3; i++) feed.append();
    const controller = new AbortController();
    const handled: string[] = [];
    for await (const { change } of client().changes({ waitSeconds: 5, signal: controller.signal })) {
      handled.push(change.id);
      controller.abort();
    }
    expect(handled).toEqual(['chg-1']);
  });

  it('ends with a RegistryError, without retrying, when the registry refuses: a wrong key, a bad cursor, no such route', async () => {
    const wrongKey = await take(1, {}, 'not-the-key-0123456789').catch((e: unknown) => e);
    expect(wrongKey).toBeInstanceOf(RegistryError);
    expect(wrongKey).toMatchObject({ kind: 'unauthorized', status: 401, code: 'unauthorized', retryable: false });
    expect(feed.requests).toHaveLength(1);

    const badCursor = await take(1, { after: 'from-another-registry' }).catch((e: unknown) => e);
    expect(badCursor).toMatchObject({ kind: 'bad_request', status: 400 });
    expect((badCursor as Error).message).toContain('after: not a cursor of this feed');

    const tooOld = createRegistryClient({ url: `${feed.url}/prefix`, apiKey: API_KEY });
    const notFound = await tooOld
      .changes()
      .next()
      .catch((e: unknown) => e);
    expect(notFound).toMatchObject({ kind: 'not_found', status: 404 });
    // One request each: none of them was retried.
    expect(feed.requests).toHaveLength(2);
  });

  it('refuses a wait outside 1–60 s: a follower long-polls', async () => {
    await expect(client().changes({ waitSeconds: 0 }).next()).rejects.toThrow(RangeError);
    await expect(client().changes({ waitSeconds: 61 }).next()).rejects.toThrow(RangeError);
    expect(feed.requests).toHaveLength(0);
  });
});
