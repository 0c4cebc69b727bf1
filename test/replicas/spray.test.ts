/**
 * Webhooks sprayed round-robin over three replicas on one PostgreSQL database, as a load balancer
 * would, in shuffled order; each resend goes to a different replica than the first delivery.
 * Every resend is a `duplicate` (dedupe is the database's unique constraint, not a replica's
 * memory), the same delivery racing to all three at once is accepted exactly once, every
 * instance ends where its newest event says, and the API of every replica says the same.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { TEST_APP_ID } from '../helpers/registry.ts';
import { createTestSigner, type TestSigner } from '../helpers/sign.ts';
import { mapLimit, seededRandom, shuffle } from '../reliability/support.ts';
import {
  apiGet,
  createScratchDatabase,
  deliver,
  describeOnPostgres,
  listEverything,
  replicasOf,
  waitForOutboxIdle,
  type Replicas,
  type ScratchDatabase,
} from './support.ts';
import type { ServerProcess } from '../helpers/process.ts';

const API_KEY = 'replicas-spray-api-key-0123456789';
const REPLICAS = 3;
const INSTANCES = 120;
const IN_FLIGHT = 24;
const RACES = 40;

interface PlannedEvent {
  instanceId: string;
  eventType: string;
  iat: number;
  data: Record<string, unknown>;
}

/** An instance's history: installed, a plan bought; a third removed, and a sixth of all reinstalled after that. */
function historyOf(i: number, t0: number): PlannedEvent[] {
  const instanceId = `spray-${i.toString().padStart(4, '0')}`;
  const t = t0 + i * 1_000;
  const events: PlannedEvent[] = [
    { instanceId, eventType: 'AppInstalled', iat: t, data: { appId: TEST_APP_ID, originInstanceId: '' } },
    {
      instanceId,
      eventType: 'PaidPlanPurchased',
      iat: t + 60,
      data: { vendorProductId: 'premium', cycle: 'YEARLY', operationTimeStamp: new Date(t * 1000).toISOString() },
    },
  ];
  if (i % 3 === 0) events.push({ instanceId, eventType: 'AppRemoved', iat: t + 120, data: { appId: TEST_APP_ID } });
  if (i % 6 === 0) events.push({ instanceId, eventType: 'AppInstalled', iat: t + 180, data: { appId: TEST_APP_ID, originInstanceId: '' } });
  return events;
}

/** What the README's rules say of that history. */
function expectedState(history: readonly PlannedEvent[]) {
  const last = [...history].sort((a, b) => a.iat - b.iat).at(-1)!;
  const installs = history.filter((e) => e.eventType === 'AppInstalled').sort((a, b) => a.iat - b.iat);
  const removed = last.eventType === 'AppRemoved';
  return {
    status: removed ? 'removed' : 'active',
    installedAt: new Date((removed ? installs[0]! : installs.at(-1)!).iat * 1000).toISOString(),
    removedAt: removed ? new Date(last.iat * 1000).toISOString() : null,
  };
}

interface InstallationView {
  installation: { instanceId: string; status: string; installedAt: string; removedAt: string | null };
  events: unknown[];
}

describeOnPostgres('replicas: webhooks sprayed round-robin, resends to another replica', () => {
  let wix: RunningFakeWix;
  let signer: TestSigner;
  let db: ScratchDatabase;
  let fleet: Replicas;
  let replicas: ServerProcess[];
  const seed = Number(process.env.SPRAY_SEED ?? Math.floor(Math.random() * 2 ** 31));

  beforeAll(async () => {
    wix = await startFakeWix();
    signer = await createTestSigner();
    db = await createScratchDatabase('spray');
    fleet = replicasOf({ databaseUrl: db.url, wixUrl: wix.url, publicKeyPem: signer.publicKeyPem, apiKey: API_KEY });
    replicas = await fleet.start(REPLICAS);
  });
  afterAll(async () => {
    await fleet?.stopAll();
    await wix?.close();
    await db?.drop();
  });

  it('every resend is a duplicate, the state is right, and every replica answers the same', async () => {
    console.log(`[replicas-spray] seed ${seed} (SPRAY_SEED=${seed} replays it)`);
    const random = seededRandom(seed);
    const t0 = Math.floor(Date.now() / 1000) - 30 * 86_400;
    const histories = Array.from({ length: INSTANCES }, (_, i) => historyOf(i, t0));
    const events = shuffle(histories.flat(), random);
    const jwts = await Promise.all(events.map((e) => signer.sign(e)));

    // First deliveries, round-robin in shuffled order: every one accepted.
    const first = await mapLimit(jwts, IN_FLIGHT, (jwt, k) => deliver(replicas[k % REPLICAS]!, jwt));
    expect(first.filter((a) => a.status !== 200 || a.outcome !== 'accepted')).toEqual([]);

    // Resends, each to the two replicas that did not take the first delivery, shuffled again.
    const resends = shuffle(
      jwts.flatMap((jwt, k) => [1, 2].map((offset) => ({ jwt, replica: (k + offset) % REPLICAS }))),
      random,
    );
    const again = await mapLimit(resends, IN_FLIGHT, ({ jwt, replica }) => deliver(replicas[replica]!, jwt));
    expect(again.filter((a) => a.status !== 200 || a.outcome !== 'duplicate')).toEqual([]);

    // The same new delivery to all three replicas at the same moment: one `accepted`, two `duplicate`.
    const raced = await Promise.all(
      Array.from({ length: RACES }, async (_, i) => {
        const jwt = await signer.sign({
          eventType: 'AppInstalled',
          instanceId: `spray-race-${i}`,
          iat: t0 + 500_000 + i,
          data: { appId: TEST_APP_ID, originInstanceId: '' },
        });
        const answers = await Promise.all(replicas.map((replica) => deliver(replica, jwt)));
        return answers.map((a) => `${a.status} ${a.outcome}`).sort();
      }),
    );
    const wrongRaces = raced.filter(
      (answers) => JSON.stringify(answers) !== JSON.stringify(['200 accepted', '200 duplicate', '200 duplicate']),
    );
    expect(wrongRaces).toEqual([]);

    // Stored once each.
    const [stored] = await db.query<{ deliveries: number; distinct: number; jwts: number }>(
      `SELECT count(*) AS deliveries, count(DISTINCT jwt_sha256) AS distinct, (SELECT count(*) FROM delivery_jwts) AS jwts FROM deliveries`,
    );
    expect(stored).toEqual({ deliveries: events.length + RACES, distinct: events.length + RACES, jwts: events.length + RACES });

    // Let the outbox settle (site syncs change installations), then every replica must agree.
    await waitForOutboxIdle(replicas[0]!, API_KEY, 90_000);

    const wrong: string[] = [];
    for (const history of histories) {
      const instanceId = history[0]!.instanceId;
      const views = await Promise.all(
        replicas.map((replica) => apiGet<InstallationView>(replica, API_KEY, `/v1/installations/${encodeURIComponent(instanceId)}`)),
      );
      const { installation, events: stream } = views[0]!.body;
      const actual = { status: installation.status, installedAt: installation.installedAt, removedAt: installation.removedAt };
      if (JSON.stringify(actual) !== JSON.stringify(expectedState(history))) {
        wrong.push(`${instanceId}: expected ${JSON.stringify(expectedState(history))}, got ${JSON.stringify(actual)}`);
      }
      if (stream.length !== history.length)
        wrong.push(`${instanceId}: ${stream.length} events in its history, ${history.length} delivered`);
      for (const [r, view] of views.entries()) {
        if (view.status !== 200 || JSON.stringify(view.body) !== JSON.stringify(views[0]!.body))
          wrong.push(`${instanceId}: replica ${r} says otherwise`);
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);

    // The whole API agrees: lists, stats, the change feed.
    const lists = await Promise.all(replicas.map((replica) => listEverything(replica, API_KEY)));
    expect(lists[0]).toHaveLength(INSTANCES + RACES);
    for (const list of lists.slice(1)) expect(list).toEqual(lists[0]);
    const stats = await Promise.all(replicas.map(async (replica) => (await apiGet(replica, API_KEY, '/v1/stats')).body));
    for (const s of stats.slice(1)) expect(s).toEqual(stats[0]);
    const removedCount = histories.filter((h) => expectedState(h).status === 'removed').length;
    expect(stats[0]).toMatchObject({ installations: { active: INSTANCES + RACES - removedCount, removed: removedCount } });
    const feeds = await Promise.all(replicas.map((replica) => readWholeFeed(replica)));
    expect(feeds[0]!.length).toBeGreaterThan(0);
    for (const feed of feeds.slice(1)) expect(feed).toEqual(feeds[0]);

    // Configured once per installation by the replicas together: exactly once where nothing was
    // removed; where a removal came in between, at most once per AppInstalled (a removal that
    // arrives first cancels the first installation's, a reinstall earns one of its own).
    const sent = new Map<string, number>();
    for (const e of wix.fake.biEvents)
      if (e.eventName === 'APP_FINISHED_CONFIGURATION') sent.set(e.instanceId, (sent.get(e.instanceId) ?? 0) + 1);
    const configuredWrong: string[] = [];
    for (const history of histories) {
      const instanceId = history[0]!.instanceId;
      const installs = history.filter((e) => e.eventType === 'AppInstalled').length;
      const n = sent.get(instanceId) ?? 0;
      const removedOnce = history.some((e) => e.eventType === 'AppRemoved');
      if (removedOnce ? n > installs : n !== 1) configuredWrong.push(`${instanceId}: ${n} APP_FINISHED_CONFIGURATION`);
    }
    for (let i = 0; i < RACES; i++)
      if (sent.get(`spray-race-${i}`) !== 1) configuredWrong.push(`spray-race-${i}: ${sent.get(`spray-race-${i}`) ?? 0}`);
    expect(configuredWrong).toEqual([]);
  }, 180_000);
});

/** Every change the feed holds, page by page. */
async function readWholeFeed(replica: ServerProcess): Promise<unknown[]> {
  const items: unknown[] = [];
  let after = '';
  for (;;) {
    const { status, body } = await apiGet<{ items: unknown[]; nextCursor: string }>(
      replica,
      API_KEY,
      `/v1/changes?limit=1000${after ? `&after=${encodeURIComponent(after)}` : ''}`,
    );
    if (status !== 200) throw new Error(`GET /v1/changes answered ${status}`);
    items.push(...body.items);
    if (body.items.length === 0) return items;
    after = body.nextCursor;
  }
}
