import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signWixWebhook } from '../../src/sandbox/webhook-signer.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { liveRegistryEnv, spawnRegistry, type ServerProcess } from '../helpers/process.ts';
import { TEST_APP_ID, TEST_APP_SECRET } from '../helpers/registry.ts';
import { createTestDatabase, TEST_ENGINE, type ScratchDatabase } from '../helpers/engine.ts';

/**
 * How long the restarted process may take to send. On PostgreSQL a job the killed process held
 * ("running") is taken over only when its lease (60 s, OUTBOX_LEASE_MS) lapses: another replica
 * could still be working on it.
 */
const TAKEOVER_MS = TEST_ENGINE === 'postgres' ? 75_000 : 10_000;

describe('outbox across a crash (SIGKILL) while Wix is failing', () => {
  let wix: RunningFakeWix;
  let database: ScratchDatabase;
  const servers: ServerProcess[] = [];
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  beforeAll(async () => {
    wix = await startFakeWix();
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const s of servers) s.child.kill('SIGKILL');
    await wix.close();
    await database.drop();
  });

  const env = () =>
    liveRegistryEnv({
      appId: TEST_APP_ID,
      appSecret: TEST_APP_SECRET,
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      wixUrl: wix.url,
      databasePath: database.url,
    });

  it(
    'ends in exactly one accepted send after the restart',
    async () => {
      wix.fake.fail('bi-event', ...Array.from({ length: 10_000 }, () => ({ kind: 'status' as const, status: 500 })));
      const first = await spawnRegistry(env());
      servers.push(first);
      const jwt = signWixWebhook(privateKey, { eventType: 'AppInstalled', instanceId: 'crash-1', data: { appId: TEST_APP_ID } });
      const res = await fetch(`${first.url}/webhooks/wix`, { method: 'POST', body: jwt });
      expect(res.status).toBe(200);
      await vi.waitFor(() => expect(wix.fake.callsTo('bi-event').length).toBeGreaterThanOrEqual(3), { timeout: 10_000 });
      first.child.kill('SIGKILL');
      await first.exited;
      expect(wix.fake.biEvents).toHaveLength(0);

      wix.fake.clearFaults(); // Wix recovers
      const second = await spawnRegistry(env());
      servers.push(second);
      await vi.waitFor(() => expect(wix.fake.biEvents.filter((e) => e.instanceId === 'crash-1')).toHaveLength(1), { timeout: TAKEOVER_MS });
      await vi.waitFor(
        async () => {
          const [job] = await database.db.query<{ status: string }>(
            `SELECT status FROM outbox_jobs WHERE instance_id = 'crash-1' AND kind = 'finished_configuration'`,
          );
          expect(job!.status).toBe('done');
          const [inst] = await database.db.query<{ configured_at: number | null }>(
            `SELECT configured_at FROM installations WHERE instance_id = 'crash-1'`,
          );
          expect(inst!.configured_at).not.toBeNull();
        },
        { timeout: 5_000 },
      );
      // The delivery survived the kill, and a Wix resend is still recognised.
      const again = await fetch(`${second.url}/webhooks/wix`, { method: 'POST', body: jwt });
      expect(await again.json()).toEqual({ status: 'duplicate' });
      await new Promise((r) => setTimeout(r, 300));
      expect(wix.fake.biEvents.filter((e) => e.instanceId === 'crash-1')).toHaveLength(1);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    },
    TAKEOVER_MS + 20_000,
  );
});
