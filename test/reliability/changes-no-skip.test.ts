import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Change } from '../../src/changes/serialize.ts';
import { openStore } from '../../src/db/open-store.ts';
import type { RegistryStore } from '../../src/db/store.ts';
import { sha256Hex } from '../../src/webhooks/ingest.ts';
import { createTestRegistry, type TestRegistry } from '../helpers/registry.ts';
import { mapLimit } from './support.ts';

/**
 * The change feed's no-skip guarantee under concurrent writers (issue 10): a cursor handed out
 * never skips a change that commits later with a lower position. On SQLite, positions are
 * assigned by whichever connection holds the database's write lock, one transaction at a time.
 * Here: hundreds of concurrent webhook deliveries group-committed by the server's writer thread,
 * and a second connection writing into the same file at the same moment (as the CLI does beside a
 * running server), while a follower pages through the feed with small pages and long-polls.
 * Every change is seen exactly once, in the order of the final feed.
 */

const SERVER_INSTALLS = 400;
const SIDE_INSTALLS = 100;

describe('no change skipped or repeated while many writers commit and a follower follows', () => {
  let t: TestRegistry;
  let side: RegistryStore;
  beforeAll(async () => {
    t = await createTestRegistry({ now: Date.UTC(2026, 10, 1, 12) });
    // A second writer on the same database: its own connection, on this thread (what the CLI opens).
    side = await openStore(t.databaseUrl, { threads: false, sqlite: { busyTimeoutMs: 10_000 } });
  });
  afterAll(async () => {
    await side.close();
    await t.close();
  });

  it(`${SERVER_INSTALLS} deliveries and ${SIDE_INSTALLS} side writes: the follower sees each change once, in order`, async () => {
    const iat = Math.floor(Date.UTC(2026, 10, 1, 11) / 1000);
    const tokens = await mapLimit(
      Array.from({ length: SERVER_INSTALLS }, (_, i) => i),
      16,
      (i) => t.signer.sign({ eventType: 'AppInstalled', instanceId: `srv-${i}`, iat: iat + i }),
    );
    const sideTokens = await mapLimit(
      Array.from({ length: SIDE_INSTALLS }, (_, i) => i),
      16,
      (i) => t.signer.sign({ eventType: 'AppInstalled', instanceId: `side-${i}`, iat: iat + i }),
    );
    const total = SERVER_INSTALLS + SIDE_INSTALLS;

    let writing = true;
    const seen: Change[] = [];
    const follower = (async () => {
      let cursor: string | null = null;
      // Small pages and short long-polls, so the follower reads again and again while writes land.
      for (let round = 0; round < 10_000 && (writing || seen.length < total); round++) {
        const res = await t.api(`/v1/changes?limit=7&wait=1${cursor ? `&after=${cursor}` : ''}`);
        // A read that waited too long behind the contention is refused (503): ask again, as the client does.
        if (res.status === 503) continue;
        expect(res.status).toBe(200);
        const page = (await res.json()) as { items: Change[]; nextCursor: string };
        seen.push(...page.items);
        cursor = page.nextCursor;
        if (!writing && page.items.length === 0) break;
      }
    })();

    // While the other connection holds the write lock, the server's writer may give up waiting for it:
    // 503, nothing stored, and Wix resends. So do we.
    const server = mapLimit(tokens, 64, async (token) => {
      for (let attempt = 0; attempt < 50; attempt++) {
        const status = (await t.deliver(token)).status;
        if (status === 200) return;
        expect(status).toBe(503);
      }
      throw new Error('a delivery was refused 50 times');
    });
    const sideWrites = (async () => {
      for (const [i, jwt] of sideTokens.entries()) {
        await side.write({
          kind: 'ingest',
          delivery: {
            jwt,
            event: {
              eventType: 'AppInstalled',
              instanceId: `side-${i}`,
              issuedAt: (iat + i) * 1000,
              data: {},
              identity: undefined,
              accountInfo: undefined,
            },
          },
          sha256: sha256Hex(jwt),
          receivedAt: t.clock.now(),
        });
        // Let the event loop turn: the server's deliveries and the follower interleave with these.
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await Promise.all([server, sideWrites]);
    writing = false;
    await follower;

    const res = await t.api('/v1/changes?limit=1000');
    const final = ((await res.json()) as { items: Change[] }).items;
    expect(final).toHaveLength(total);
    const ids = seen.map((c) => c.id);
    expect(new Set(ids).size, 'nothing repeated').toBe(ids.length);
    expect(ids, 'nothing skipped, in commit order').toEqual(final.map((c) => c.id));
    expect(new Set(final.map((c) => c.instanceId)).size).toBe(total);
  }, 120_000);
});
