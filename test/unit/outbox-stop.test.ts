import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.ts';
import type { WriteCommand } from '../../src/db/commands.ts';
import type { RegistryStore } from '../../src/db/store.ts';
import { createLogger } from '../../src/logger.ts';
import type { OutboxJob } from '../../src/outbox/model.ts';
import { createOutboxWorker } from '../../src/outbox/worker.ts';

/**
 * Stopping while a claim is still committing: the jobs it claims must not start after stop() has
 * returned (the store closes right after it: their outcomes could not be recorded), and go back
 * to the queue instead, without counting the attempt.
 */
describe('outbox worker: stop() during a claim', () => {
  it('gives the claimed jobs back, runs none of them, and returns only once they are back', async () => {
    const job = { id: 41, kind: 'sync_instance', instanceId: 'i', status: 'running', attempts: 1 } as OutboxJob;
    const written: WriteCommand[] = [];
    let answerClaim!: (jobs: OutboxJob[]) => void;
    const store = {
      write: (command: WriteCommand) => {
        written.push(command);
        if (command.kind === 'claimJobs') return new Promise<OutboxJob[]>((resolve) => (answerClaim = resolve));
        return Promise.resolve(undefined);
      },
    } as unknown as RegistryStore;
    let ran = 0;
    const worker = createOutboxWorker({
      store,
      handlers: {
        sync_instance: async () => {
          ran++;
        },
      },
      clock: createManualClock(1_000),
      logger: createLogger('silent'),
    });
    const pass = worker.runDue();
    let stopped = false;
    const stopping = worker.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false); // waits for the claim in flight
    answerClaim([job]);
    await stopping;
    expect(await pass).toBe(0);
    expect(ran).toBe(0);
    expect(written.map((c) => c.kind)).toEqual(['claimJobs', 'releaseJobs']);
    expect(written[1]).toMatchObject({ kind: 'releaseJobs', jobIds: [41] });
  });
});
