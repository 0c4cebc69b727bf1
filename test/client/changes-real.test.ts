import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRegistryClient, RegistryError, type ChangeEntry } from '../../client/src/index.ts';
import { listenLocal } from '../../src/sandbox/fake-wix.ts';
import { startFakeChanges, type FakeChanges } from '../helpers/fake-changes.ts';
import { createTestRegistry, TEST_API_KEY, type TestRegistry } from '../helpers/registry.ts';

/**
 * The client's follower (registry.changes()) against the registry's real GET /v1/changes over
 * HTTP, and the fake the client's own tests use (test/helpers/fake-changes.ts) held to the same
 * answers as the real route.
 */

describe("the client's follower against the real GET /v1/changes", () => {
  let t: TestRegistry;
  let server: { url: string; close(): Promise<void> };
  let iat = Math.floor(Date.UTC(2026, 10, 1, 11) / 1000);
  beforeEach(async () => {
    t = await createTestRegistry({ now: Date.UTC(2026, 10, 1, 12) });
    server = await listenLocal(t.app);
  });
  afterEach(async () => {
    await server.close();
    await t.close();
  });

  const install = async (instanceId: string) =>
    expect((await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId, iat: iat++ }))).status).toBe(200);
  const client = () => createRegistryClient({ url: server.url, apiKey: TEST_API_KEY });
  async function take(count: number, options: Parameters<ReturnType<typeof client>['changes']>[0] = {}): Promise<ChangeEntry[]> {
    const seen: ChangeEntry[] = [];
    for await (const entry of client().changes({ waitSeconds: 30, ...options })) {
      seen.push(entry);
      if (seen.length === count) break;
    }
    return seen;
  }

  it('yields every change in commit order, page by page, and resumes from a saved cursor after a restart', async () => {
    for (const id of ['a', 'b', 'c', 'd', 'e']) await install(id);
    const first = await take(3, { limit: 2 });
    expect(first.map((e) => e.change.instanceId)).toEqual(['a', 'b', 'c']);
    expect(first[0]!.cursor).toBeNull(); // mid-page: where the page began
    expect(first[1]!.cursor).toEqual(expect.any(String)); // a page's last change: exact
    const saved = first[1]!.cursor;

    // The registry restarts; the service resumes from what it saved.
    await server.close();
    await t.restart();
    server = await listenLocal(t.app);
    await install('f');
    const rest = await take(4, { limit: 2, after: saved });
    expect(rest.map((e) => e.change.instanceId)).toEqual(['c', 'd', 'e', 'f']);
    const api = (await (await t.api('/v1/changes')).json()) as { items: unknown[] };
    expect([...first.slice(0, 2), ...rest].map((e) => e.change)).toEqual(api.items);
  });

  it('long-polls: a follower at the end of the feed gets the next change as soon as it commits', async () => {
    await install('before');
    const following = take(2); // waitSeconds 30: only a commit can end the second wait within the test's timeout
    await new Promise((resolve) => setTimeout(resolve, 200));
    await install('after');
    expect((await following).map((e) => e.change.instanceId)).toEqual(['before', 'after']);
  });

  it('ends with a RegistryError, without retrying, for a cursor this registry never handed out', async () => {
    const retries: unknown[] = [];
    const error = await take(1, { after: 'from-another-registry', onRetry: (r) => retries.push(r) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ kind: 'bad_request', status: 400, code: 'bad_request', retryable: false });
    expect(retries).toEqual([]);
  });
});

describe('the fake GET /v1/changes answers as the real route does', () => {
  let t: TestRegistry;
  let real: { url: string; close(): Promise<void> };
  let fake: FakeChanges;
  beforeEach(async () => {
    t = await createTestRegistry({ now: Date.UTC(2026, 10, 1, 12) });
    real = await listenLocal(t.app);
    fake = await startFakeChanges({ apiKey: TEST_API_KEY });
  });
  afterEach(async () => {
    await real.close();
    await fake.close();
    await t.close();
  });

  it('same statuses, error codes and page shapes for the requests the client makes', async () => {
    const iat = Math.floor(Date.UTC(2026, 10, 1, 11) / 1000);
    for (const [i, id] of ['x', 'y', 'z'].entries()) {
      expect((await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId: id, iat: iat + i }))).status).toBe(200);
      fake.append('installation.installed', id);
    }
    const answer = async (base: string, query: string, key = TEST_API_KEY) => {
      const res = await fetch(`${base}/v1/changes${query}`, { headers: { authorization: `Bearer ${key}` } });
      const body = (await res.json()) as {
        items?: { type: string; instanceId: string }[];
        nextCursor?: unknown;
        error?: { code: string; message: string; requestId: string };
      };
      return {
        status: res.status,
        code: body.error?.code ?? null,
        errorShape: body.error ? Object.keys(body.error).sort() : null,
        items: body.items?.map((c) => [c.type, c.instanceId]) ?? null,
        nextCursorIsString: body.error ? null : typeof body.nextCursor === 'string',
      };
    };
    // Walk both feeds the way the client does, with their own cursors.
    for (const base of [real.url, fake.url]) {
      const first = await answer(base, '?limit=2');
      expect(first, base).toMatchObject({
        status: 200,
        items: [
          ['installation.installed', 'x'],
          ['installation.installed', 'y'],
        ],
        nextCursorIsString: true,
      });
    }
    const cursorOf = async (base: string, query: string) =>
      (
        (await (await fetch(`${base}/v1/changes${query}`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } })).json()) as {
          nextCursor: string;
        }
      ).nextCursor;
    const [realCursor, fakeCursor] = [await cursorOf(real.url, '?limit=2'), await cursorOf(fake.url, '?limit=2')];
    expect(await answer(real.url, `?after=${realCursor}&limit=2`)).toEqual(await answer(fake.url, `?after=${fakeCursor}&limit=2`));
    const [realEnd, fakeEnd] = [await cursorOf(real.url, `?after=${realCursor}`), await cursorOf(fake.url, `?after=${fakeCursor}`)];
    // An empty page at the end (wait=0), and after a short long-poll: the same cursor back.
    for (const query of ['', '&wait=1']) {
      expect(await answer(real.url, `?after=${realEnd}${query}`)).toEqual(await answer(fake.url, `?after=${fakeEnd}${query}`));
      expect(await cursorOf(real.url, `?after=${realEnd}${query}`)).toBe(realEnd);
      expect(await cursorOf(fake.url, `?after=${fakeEnd}${query}`)).toBe(fakeEnd);
    }
    for (const query of ['?limit=0', '?limit=1001', '?wait=61', '?wait=-1', '?after=not-a-cursor']) {
      const [r, f] = [await answer(real.url, query), await answer(fake.url, query)];
      expect(r, query).toEqual(f);
      expect(r.status, query).toBe(400);
    }
    expect(await answer(real.url, '', 'wrong-key-0123456789abc')).toEqual(await answer(fake.url, '', 'wrong-key-0123456789abc'));
  });
});
