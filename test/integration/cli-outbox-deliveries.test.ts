import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { REPO_ROOT } from '../helpers/process.ts';
import { createTestRegistry, TEST_APP_ID, TEST_APP_SECRET, type TestRegistry } from '../helpers/registry.ts';

const run = promisify(execFile);

describe('CLI: outbox list/retry and deliveries list/replay on a real database file', () => {
  let wix: RunningFakeWix;
  let t: TestRegistry;
  let env: Record<string, string>;
  const cli = async (...args: string[]) => {
    const { stdout } = await run(process.execPath, ['bin/wix-registry.js', ...args], { cwd: REPO_ROOT, env, timeout: 20_000 });
    return stdout;
  };

  beforeAll(async () => {
    wix = await startFakeWix();
    // Real time: the CLI queues retries on the system clock.
    t = await createTestRegistry({ wixApiBaseUrl: wix.url, backoff: { baseMs: 1, capMs: 1, maxAttempts: 1 }, now: Date.now() });
    env = {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: t.databaseUrl,
      WIX_APP_ID: TEST_APP_ID,
      WIX_APP_SECRET: TEST_APP_SECRET,
      WIX_PUBLIC_KEY: t.signer.publicKeyPem,
    };
    wix.fake.fail('bi-event', { kind: 'status', status: 500 });
    await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId: 'cli-1', iat: Math.floor(t.clock.now() / 1000) }));
    await t.registry.outbox.worker.runDue();
  });
  afterAll(async () => {
    await t.close();
    await wix.close();
  });

  it('lists dead jobs with their error, and queues them again', async () => {
    const listed = JSON.parse(await cli('outbox', 'list', '--status', 'dead', '--json')) as {
      counts: Record<string, number>;
      jobs: { id: number; kind: string; lastError: string }[];
    };
    expect(listed.counts.dead).toBe(1);
    expect(listed.jobs).toEqual([expect.objectContaining({ kind: 'finished_configuration', lastError: expect.stringContaining('500') })]);
    expect(await cli('outbox', 'list')).toMatch(/finished_configuration\s+cli-1\s+dead/);
    expect(await cli('outbox', 'retry', '--all-dead')).toContain('1 job(s) queued again');
    t.clock.set(Date.now());
    await t.registry.outbox.worker.runDue();
    expect(wix.fake.biEvents.filter((e) => e.instanceId === 'cli-1')).toHaveLength(1);
    expect(await t.store.outbox.counts()).toMatchObject({ dead: 0, done: 2 });
  });

  it('lists deliveries and replays one, repairing the state from history', async () => {
    const rows = JSON.parse(await cli('deliveries', 'list', '--json')) as { id: number; eventType: string; instanceId: string }[];
    expect(rows).toEqual([expect.objectContaining({ eventType: 'AppInstalled', instanceId: 'cli-1' })]);
    expect(await cli('deliveries', 'replay', String(rows[0]!.id))).toContain('state already matches');
    await t.db.run(`UPDATE installations SET status = 'removed' WHERE instance_id = 'cli-1'`);
    expect(await cli('deliveries', 'replay', String(rows[0]!.id))).toContain('state recomputed');
    expect((await t.registry.queries.get('cli-1'))?.installation.status).toBe('active');
  });
});
