/**
 * Several replicas started at the same moment on one empty PostgreSQL database all come up, the
 * migrations applied once (the contract's "Running several replicas"); then they serve one
 * registry: a delivery acknowledged by one is visible on all, a resend to another is a duplicate.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { REPO_ROOT } from '../helpers/process.ts';
import { TEST_APP_ID } from '../helpers/registry.ts';
import { createTestSigner, type TestSigner } from '../helpers/sign.ts';
import { apiGet, createScratchDatabase, deliver, describeOnPostgres, replicasOf, type Replicas, type ScratchDatabase } from './support.ts';

const API_KEY = 'replicas-startup-api-key-0123456789';
const REPLICAS = 3;
/** Each round is a new empty database: the race for the migrations is run more than once. */
const ROUNDS = 2;

const migrationTags = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'migrations/postgres/meta/_journal.json'), 'utf8')) as { entries: { tag: string }[] }
).entries.map((e) => e.tag);

describeOnPostgres('replicas: started at the same moment on an empty database', () => {
  let wix: RunningFakeWix;
  let signer: TestSigner;
  const databases: ScratchDatabase[] = [];
  const fleets: Replicas[] = [];

  beforeAll(async () => {
    wix = await startFakeWix();
    signer = await createTestSigner();
  });
  afterAll(async () => {
    for (const fleet of fleets) await fleet.stopAll();
    await wix?.close();
    for (const db of databases) await db.drop();
  });

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: all ${REPLICAS} come up, the migrations are applied once, and they serve one registry`, async () => {
      const db = await createScratchDatabase(`startup${round}`);
      databases.push(db);
      const fleet = replicasOf({ databaseUrl: db.url, wixUrl: wix.url, publicKeyPem: signer.publicKeyPem, apiKey: API_KEY });
      fleets.push(fleet);
      const replicas = await fleet.start(REPLICAS);

      for (const replica of replicas) expect((await fetch(`${replica.url}/readyz`)).status).toBe(200);

      // Migrations once: drizzle's journal table holds each migration exactly once (wherever
      // the engine keeps it), and every table of the schema is there.
      const journals = await db.query<{ schema: string }>(
        `SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = '__drizzle_migrations'`,
      );
      expect(journals).toHaveLength(1);
      const applied = await db.query<{ hash: string }>(`SELECT hash FROM "${journals[0]!.schema}".__drizzle_migrations`);
      expect(applied).toHaveLength(migrationTags.length);
      expect(new Set(applied.map((r) => r.hash)).size).toBe(migrationTags.length);
      const tables = (
        await db.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`)
      ).map((r) => r.name);
      expect(tables).toEqual(
        expect.arrayContaining(['installations', 'deliveries', 'delivery_jwts', 'outbox_jobs', 'changes', 'registry_counters']),
      );

      // One registry from outside: accepted by one, visible on all, a duplicate on the others.
      const instanceId = `startup-${round}-${Date.now()}`;
      const jwt = await signer.sign({
        eventType: 'AppInstalled',
        instanceId,
        iat: Math.floor(Date.now() / 1000),
        data: { appId: TEST_APP_ID, originInstanceId: '' },
      });
      expect(await deliver(replicas[0]!, jwt)).toEqual({ status: 200, outcome: 'accepted' });
      for (const replica of replicas.slice(1)) expect(await deliver(replica, jwt)).toEqual({ status: 200, outcome: 'duplicate' });
      for (const replica of replicas) {
        const { status, body } = await apiGet<{ installation: { status: string }; events: unknown[] }>(
          replica,
          API_KEY,
          `/v1/installations/${encodeURIComponent(instanceId)}`,
        );
        expect(status).toBe(200);
        expect(body.installation.status).toBe('active');
        expect(body.events).toHaveLength(1);
      }

      // A clean stop: every replica exits 0 on SIGTERM, the others still running.
      expect(await fleet.stopAll()).toEqual(Array.from({ length: REPLICAS }, () => 0));
    }, 120_000);
  }
});
