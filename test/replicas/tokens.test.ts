/**
 * The token single flight across replicas: Wix sees at most one token request per instance per
 * token lifetime, whichever replica asks. Three replicas, a fake Wix that answers token requests
 * slowly (so requests for one instance overlap on every replica), and many concurrent token API
 * requests for the same instances spread over all three, while the outbox of each replica asks
 * for tokens of its own (BI events, site syncs). Every request gets the same token for an
 * instance, and the token is not in the database in clear.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import type { ServerProcess } from '../helpers/process.ts';
import { TEST_APP_ID } from '../helpers/registry.ts';
import { createTestSigner, type TestSigner } from '../helpers/sign.ts';
import { mapLimit, seededRandom, shuffle } from '../reliability/support.ts';
import {
  createScratchDatabase,
  deliver,
  describeOnPostgres,
  replicasOf,
  waitForOutboxIdle,
  type Replicas,
  type ScratchDatabase,
} from './support.ts';

const API_KEY = 'replicas-tokens-api-key-0123456789';
const REPLICAS = 3;
const INSTANCES = 30;
/** Token API requests per instance on each replica. */
const REQUESTS_PER_INSTANCE_PER_REPLICA = 6;
const IN_FLIGHT = 60;
const SLOW_TOKEN_MS = 400;

describeOnPostgres('replicas: one Wix token request per instance across replicas', () => {
  let wix: RunningFakeWix;
  let signer: TestSigner;
  let db: ScratchDatabase;
  let fleet: Replicas;
  let replicas: ServerProcess[];

  beforeAll(async () => {
    wix = await startFakeWix();
    signer = await createTestSigner();
    db = await createScratchDatabase('tokens');
    fleet = replicasOf({ databaseUrl: db.url, wixUrl: wix.url, publicKeyPem: signer.publicKeyPem, apiKey: API_KEY });
    replicas = await fleet.start(REPLICAS);
  });
  afterAll(async () => {
    await fleet?.stopAll();
    await wix?.close();
    await db?.drop();
  });

  it('many concurrent token requests on every replica: at most one token request per instance reaches Wix', async () => {
    const random = seededRandom(Number(process.env.TOKENS_SEED ?? 9));
    const instanceIds = Array.from({ length: INSTANCES }, (_, i) => `tokens-${i}-${Date.now().toString(36)}`);
    // Every token request is slow: those for one instance overlap across replicas and with the outbox's.
    wix.fake.fail('token', ...Array.from({ length: 10 * INSTANCES }, () => ({ kind: 'delay' as const, ms: SLOW_TOKEN_MS })));

    const iat = Math.floor(Date.now() / 1000);
    const installs = await Promise.all(
      instanceIds.map((instanceId) =>
        signer.sign({ eventType: 'AppInstalled', instanceId, iat, data: { appId: TEST_APP_ID, originInstanceId: '' } }),
      ),
    );
    const seeded = await Promise.all(installs.map((jwt, i) => deliver(replicas[i % REPLICAS]!, jwt)));
    expect(seeded.filter((a) => a.outcome !== 'accepted')).toEqual([]);

    // At once, while the outboxes start on the same instances' BI events.
    const requests = shuffle(
      instanceIds.flatMap((instanceId) =>
        replicas.flatMap((replica) => Array.from({ length: REQUESTS_PER_INSTANCE_PER_REPLICA }, () => ({ instanceId, replica }))),
      ),
      random,
    );
    const answers = await mapLimit(requests, IN_FLIGHT, async ({ instanceId, replica }) => {
      const res = await fetch(`${replica.url}/v1/installations/${encodeURIComponent(instanceId)}/access-token`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      const body = (await res.json()) as { accessToken?: string; expiresAt?: string };
      return { instanceId, status: res.status, accessToken: body.accessToken, expiresAt: body.expiresAt };
    });
    expect(answers.filter((a) => a.status !== 200 || typeof a.accessToken !== 'string')).toEqual([]);

    // The outboxes finish too (their tokens count as well), then count what reached Wix.
    await waitForOutboxIdle(replicas[0]!, API_KEY, 60_000);
    const tokenRequests = new Map<string, number>();
    for (const call of wix.fake.callsTo('token')) {
      const instanceId = (call.body as { instance_id?: string } | undefined)?.instance_id ?? '(none)';
      tokenRequests.set(instanceId, (tokenRequests.get(instanceId) ?? 0) + 1);
    }
    const over = [...tokenRequests].filter(([, n]) => n > 1);
    console.log(
      `[replicas-tokens] ${answers.length} token API requests over ${REPLICAS} replicas; ${wix.fake.callsTo('token').length} token requests reached Wix for ${INSTANCES} instances`,
    );
    expect(over, 'instances Wix was asked more than once for a token').toEqual([]);
    expect([...tokenRequests.keys()].sort()).toEqual([...instanceIds].sort());

    // One token per instance, whichever replica answered, and one expiry.
    for (const instanceId of instanceIds) {
      const mine = answers.filter((a) => a.instanceId === instanceId);
      expect(new Set(mine.map((a) => a.accessToken)).size).toBe(1);
      expect(new Set(mine.map((a) => a.expiresAt)).size).toBe(1);
    }

    // Anything secret stored in the database is encrypted: no table holds a token in clear.
    const tables = (
      await db.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`)
    ).map((r) => r.name);
    const sampleTokens = [...new Set(answers.map((a) => a.accessToken!))].slice(0, 5);
    for (const table of tables) {
      const rows = await db.query<{ row: string }>(`SELECT t::text AS row FROM "${table}" t`);
      for (const token of sampleTokens)
        expect(
          rows.filter((r) => r.row.includes(token)),
          `${table} holds an access token in clear`,
        ).toEqual([]);
    }
  }, 180_000);
});
