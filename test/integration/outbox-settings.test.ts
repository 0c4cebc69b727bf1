/**
 * The outbox retry settings users rely on, end to end: the environment goes through loadConfig
 * and startRegistry (what `npm start` runs) to the worker, and is observed where it lands, in the
 * jobs' rows (attempts, run_after, status), while Wix keeps failing. The worker runs on its own
 * timers; only the registry's clock is moved, from one due time to the next.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createManualClock } from '../../src/clock.ts';
import { createLogger } from '../../src/logger.ts';
import { startRegistry, type RunningRegistry } from '../../src/main.ts';
import type { Fault } from '../../src/sandbox/fake-wix.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { TEST_APP_ID, TEST_APP_SECRET } from '../helpers/registry.ts';
import { createTestDatabase, type ScratchDatabase } from '../helpers/engine.ts';
import { createTestSigner, type TestSigner } from '../helpers/sign.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

interface JobRow {
  kind: string;
  status: string;
  attempts: number;
  runAfter: number;
  updatedAt: number;
}

let wix: RunningFakeWix;
let signer: TestSigner;
beforeAll(async () => {
  wix = await startFakeWix();
  signer = await createTestSigner();
});
afterAll(() => wix.close());

describe('outbox retry settings, from the environment to the worker', () => {
  let database: ScratchDatabase | undefined;
  let running: RunningRegistry | undefined;
  const clock = createManualClock(Date.UTC(2026, 10, 1));

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    wix.fake.clearFaults();
    await database?.drop();
    database = undefined;
  });

  /** A live-mode registry as `npm start` builds it, on a fresh database, with only `env` added. */
  async function start(env: Record<string, string>): Promise<RunningRegistry> {
    database = await createTestDatabase();
    running = await startRegistry({
      env: {
        WIX_APP_ID: TEST_APP_ID,
        WIX_APP_SECRET: TEST_APP_SECRET,
        WIX_PUBLIC_KEY: signer.publicKeyPem,
        WIX_API_BASE_URL: wix.url,
        DATABASE_URL: database.url,
        PORT: '0',
        HOST: '127.0.0.1',
        ...env,
      },
      clock,
      logger: createLogger('silent'),
      print: () => {},
    });
    return running;
  }

  /** The jobs as stored, read through a connection of the test's own. */
  function jobs(): Promise<JobRow[]> {
    return database!.db.query<JobRow>(
      'SELECT kind, status, attempts, run_after AS "runAfter", updated_at AS "updatedAt" FROM outbox_jobs ORDER BY kind',
    );
  }

  /** Both jobs of the one installation have been tried `attempts` times and are not running. */
  async function attempted(attempts: number): Promise<JobRow[]> {
    await vi.waitFor(
      async () => {
        const rows = await jobs();
        expect(rows.map((j) => [j.kind, j.attempts, j.status === 'running'])).toEqual([
          ['finished_configuration', attempts, false],
          ['sync_instance', attempts, false],
        ]);
      },
      { timeout: 10_000, interval: 20 },
    );
    return jobs();
  }

  /** Moves the registry's clock to the latest due time and lets the worker look. */
  function advanceToDue(rows: JobRow[]): void {
    clock.set(Math.max(...rows.filter((j) => j.status === 'pending').map((j) => j.runAfter)));
    running!.registry.outbox.worker.wake();
  }

  /** A new installation whose two jobs (BI event, site sync) Wix will refuse with these faults. */
  async function installWhileWixFails(faults: { biEvent: Fault; instance: Fault }) {
    wix.fake.fail('bi-event', ...Array<Fault>(40).fill(faults.biEvent));
    wix.fake.fail('instance', ...Array<Fault>(40).fill(faults.instance));
    const jwt = await signer.sign({
      eventType: 'AppInstalled',
      instanceId: `settings-${clock.now()}`,
      iat: Math.floor(clock.now() / 1000),
    });
    const res = await fetch(`${running!.url}/webhooks/wix`, { method: 'POST', body: jwt });
    expect(await res.json()).toEqual({ status: 'accepted' });
  }

  const delays = (rows: JobRow[]) => rows.map((j) => j.runAfter - j.updatedAt);
  /** Every job was given a delay within [min, max] after its last attempt. */
  const expectDelaysWithin = (rows: JobRow[], min: number, max: number) => {
    for (const job of rows) {
      const delay = job.runAfter - job.updatedAt;
      expect(delay, `${job.kind} after attempt ${job.attempts}`).toBeGreaterThanOrEqual(min);
      expect(delay, `${job.kind} after attempt ${job.attempts}`).toBeLessThanOrEqual(max);
    }
  };
  const error500: Fault = { kind: 'status', status: 500 };

  it('by default: 5 s doubling to a 30-minute cap, jittered, and dead after exactly 15 attempts', async () => {
    const registry = await start({});
    expect(registry.config.outboxBackoff).toEqual({ baseMs: 5 * SECOND, capMs: 30 * MINUTE, maxAttempts: 15 });
    await installWhileWixFails({ biEvent: error500, instance: error500 });

    for (let attempt = 1; attempt < 15; attempt++) {
      const rows = await attempted(attempt);
      const full = Math.min(30 * MINUTE, 5 * SECOND * 2 ** (attempt - 1));
      expect(rows.map((j) => j.status)).toEqual(['pending', 'pending']);
      expectDelaysWithin(rows, full / 2, full);
      advanceToDue(rows);
    }
    const last = await attempted(15);
    expect(last.map((j) => j.status)).toEqual(['dead', 'dead']);
  });

  it("honours Wix's Retry-After, but never waits longer than the cap", async () => {
    await start({});
    await installWhileWixFails({
      biEvent: { kind: 'status', status: 429, retryAfterSec: 60 },
      instance: { kind: 'status', status: 429, retryAfterSec: 2 * 60 * 60 },
    });
    const rows = await attempted(1);
    // Retry-After 60 s beats the first delay (2.5–5 s); two hours is cut to the 30-minute cap.
    expect(delays(rows)).toEqual([60 * SECOND, 30 * MINUTE]);
  });

  it('OUTBOX_RETRY_BASE_MS, OUTBOX_RETRY_CAP_MS and OUTBOX_MAX_ATTEMPTS reach the worker', async () => {
    // Chosen so that each setting, if lost, moves a delay out of its range (the defaults give 2.5–5 s, then a
    // 40–80 s third delay, and 15 attempts).
    await start({ OUTBOX_RETRY_BASE_MS: '60000', OUTBOX_RETRY_CAP_MS: '100000', OUTBOX_MAX_ATTEMPTS: '4' });
    await installWhileWixFails({ biEvent: error500, instance: error500 });

    const first = await attempted(1);
    expectDelaysWithin(first, 30 * SECOND, 60 * SECOND);
    advanceToDue(first);
    const second = await attempted(2);
    expectDelaysWithin(second, 50 * SECOND, 100 * SECOND);
    advanceToDue(second);
    // Uncapped, the third delay would be 120–240 s.
    const third = await attempted(3);
    expectDelaysWithin(third, 50 * SECOND, 100 * SECOND);
    advanceToDue(third);
    const fourth = await attempted(4);
    expect(fourth.map((j) => j.status)).toEqual(['dead', 'dead']);
  });
});
