/**
 * Concurrent events for one instance on two replicas at the same moment: in each round, every
 * instance gets an AppInstalled and an AppRemoved with different iats, one sent to each replica
 * at once (which replica gets which, and which of the two is newer, drawn at random). Without a
 * per-instance lock across processes, both transactions read the same old state and the later
 * commit overwrites the other's update; with it, after every round the state follows the newest
 * iat, on both replicas.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import type { ServerProcess } from '../helpers/process.ts';
import { TEST_APP_ID } from '../helpers/registry.ts';
import { createTestSigner, type TestSigner } from '../helpers/sign.ts';
import { seededRandom } from '../reliability/support.ts';
import { apiGet, createScratchDatabase, deliver, describeOnPostgres, replicasOf, type Replicas, type ScratchDatabase } from './support.ts';

const API_KEY = 'replicas-concurrent-api-key-0123456789';
const INSTANCES = 40;
const ROUNDS = Number(process.env.CONCURRENT_ROUNDS ?? 12);

interface View {
  installation: { status: string; installedAt: string; removedAt: string | null };
  events: unknown[];
}

const pick = (i: View['installation']) => ({ status: i.status, installedAt: i.installedAt, removedAt: i.removedAt });

describeOnPostgres('replicas: concurrent events for one instance on two replicas', () => {
  let wix: RunningFakeWix;
  let signer: TestSigner;
  let db: ScratchDatabase;
  let fleet: Replicas;
  let replicas: ServerProcess[];
  const seed = Number(process.env.CONCURRENT_SEED ?? Math.floor(Math.random() * 2 ** 31));

  beforeAll(async () => {
    wix = await startFakeWix();
    signer = await createTestSigner();
    db = await createScratchDatabase('concurrent');
    fleet = replicasOf({ databaseUrl: db.url, wixUrl: wix.url, publicKeyPem: signer.publicKeyPem, apiKey: API_KEY });
    replicas = await fleet.start(2);
  });
  afterAll(async () => {
    await fleet?.stopAll();
    await wix?.close();
    await db?.drop();
  });

  it('after every round the state follows the newest iat: no lost update', async () => {
    console.log(`[replicas-concurrent] seed ${seed} (CONCURRENT_SEED=${seed} replays it)`);
    const random = seededRandom(seed);
    const t0 = Math.floor(Date.now() / 1000) - 10 * 86_400;
    const instanceIds = Array.from({ length: INSTANCES }, (_, i) => `concurrent-${i}-${seed.toString(36)}`);
    const lostUpdates: string[] = [];
    let newestRemoved = 0;
    const lastStatus = new Map<string, string>();

    for (let round = 0; round < ROUNDS; round++) {
      // Iats grow from round to round; within a round the pair is one second apart.
      const base = t0 + round * 100;
      const pairs = await Promise.all(
        instanceIds.map(async (instanceId) => {
          const removalIsNewer = random() < 0.5;
          const installFirstReplica = random() < 0.5 ? 0 : 1;
          const installed = await signer.sign({
            eventType: 'AppInstalled',
            instanceId,
            iat: removalIsNewer ? base : base + 1,
            data: { appId: TEST_APP_ID, originInstanceId: '' },
          });
          const removed = await signer.sign({
            eventType: 'AppRemoved',
            instanceId,
            iat: removalIsNewer ? base + 1 : base,
            data: { appId: TEST_APP_ID },
          });
          return { instanceId, removalIsNewer, installed, removed, installReplica: installFirstReplica, newestIat: base + 1 };
        }),
      );

      // Every pair at the same moment: the install to one replica, the removal to the other.
      const answers = await Promise.all(
        pairs.flatMap((p) => [deliver(replicas[p.installReplica]!, p.installed), deliver(replicas[1 - p.installReplica]!, p.removed)]),
      );
      expect(answers.filter((a) => a.status !== 200 || a.outcome !== 'accepted')).toEqual([]);

      for (const p of pairs) {
        const views = await Promise.all(
          replicas.map((replica) => apiGet<View>(replica, API_KEY, `/v1/installations/${encodeURIComponent(p.instanceId)}`)),
        );
        const { installation, events } = views[0]!.body;
        const expected = p.removalIsNewer
          ? { status: 'removed', removedAt: new Date(p.newestIat * 1000).toISOString() }
          : { status: 'active', removedAt: null };
        const actual = { status: installation.status, removedAt: installation.removedAt };
        if (JSON.stringify(actual) !== JSON.stringify(expected)) {
          lostUpdates.push(
            `round ${round}, ${p.instanceId}: the newer is ${p.removalIsNewer ? 'AppRemoved' : 'AppInstalled'}, state ${JSON.stringify(actual)}`,
          );
        }
        if (events.length !== 2 * (round + 1)) lostUpdates.push(`round ${round}, ${p.instanceId}: ${events.length} events in its history`);
        // What the events decide (the outbox's site syncs and BI events may change other fields between the two reads).
        const decided = (view: View) => JSON.stringify({ ...pick(view.installation), events: view.events });
        if (decided(views[1]!.body) !== decided(views[0]!.body)) {
          lostUpdates.push(
            `round ${round}, ${p.instanceId}: the replicas disagree: ${decided(views[0]!.body)} / ${decided(views[1]!.body)}`,
          );
        }
        if (round === ROUNDS - 1 && p.removalIsNewer) newestRemoved++;
        lastStatus.set(p.instanceId, installation.status);
      }
    }
    expect(lostUpdates.slice(0, 5), `${lostUpdates.length} wrong states`).toEqual([]);

    // The rows say what the API said after the last round (nothing changed them since).
    const rows = new Map(
      (await db.query<{ id: string; status: string }>(`SELECT instance_id AS id, status FROM installations`)).map((r) => [r.id, r.status]),
    );
    const explain = async (id: string) =>
      JSON.stringify(
        await db.query(`SELECT event_type, issued_at, received_at, outcome, source FROM deliveries WHERE instance_id = $1 ORDER BY id`, [
          id,
        ]),
      );
    const changedSince = instanceIds.filter((id) => rows.get(id) !== lastStatus.get(id));
    expect(
      await Promise.all(
        changedSince.map(async (id) => `${id}: now ${rows.get(id)}, after the last round ${lastStatus.get(id)}; ${await explain(id)}`),
      ),
    ).toEqual([]);

    // The counters (kept by triggers) agree with the rows after all those concurrent transitions.
    const [counts] = await db.query<{ active: number; removed: number }>(
      `SELECT count(*) FILTER (WHERE status = 'active') AS active, count(*) FILTER (WHERE status = 'removed') AS removed FROM installations`,
    );
    expect(counts).toEqual({ active: INSTANCES - newestRemoved, removed: newestRemoved });
    for (const replica of replicas) {
      expect((await apiGet(replica, API_KEY, '/v1/stats')).body).toMatchObject({
        installations: { active: INSTANCES - newestRemoved, removed: newestRemoved },
      });
    }
  }, 180_000);
});
