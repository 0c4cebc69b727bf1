import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.ts';
import type { WriteCommand } from '../../src/db/commands.ts';
import { StorageBusyError, type RegistryStore } from '../../src/db/store.ts';
import { createLogger } from '../../src/logger.ts';
import { JobFailure } from '../../src/outbox/failure.ts';
import type { OutboxJob } from '../../src/outbox/model.ts';
import { createOutboxWorker } from '../../src/outbox/worker.ts';

/** How a push lane's worker records a failed attempt: what counts against the endpoint's health. */

const job: OutboxJob = {
  id: 7,
  kind: 'push_change',
  instanceId: 'i',
  installationStartedAt: 0,
  status: 'running',
  attempts: 1,
  runAfter: 0,
  leaseUntil: 60_000,
  lastError: null,
  createdAt: 0,
  updatedAt: 0,
  completedAt: null,
  endpoint: 'https://user:pw@hooks.example/registry?key=k',
  changePosition: 3,
};

async function failOnce(error: unknown): Promise<WriteCommand[]> {
  const written: WriteCommand[] = [];
  const store = {
    write: async (command: WriteCommand) => {
      written.push(command);
      return (command.kind === 'claimJobs' ? [job] : undefined) as never;
    },
  } as unknown as RegistryStore;
  const worker = createOutboxWorker({
    store,
    lane: { endpoint: job.endpoint! },
    handlers: {
      push_change: async () => {
        throw error;
      },
    },
    clock: createManualClock(1_000),
    logger: createLogger('silent'),
    backoff: { baseMs: 1_000, capMs: 60_000, maxAttempts: 5 },
    random: () => 1,
  });
  await worker.runDue();
  return written;
}

describe('a push attempt that fails', () => {
  it('claims from its own lane, and an endpoint failure counts against the endpoint, Retry-After honoured', async () => {
    const [claim, outcome] = await failOnce(new JobFailure('hooks.example: answered 429', true, 30_000));
    expect(claim).toMatchObject({ kind: 'claimJobs', endpoint: job.endpoint });
    expect(outcome).toEqual({
      kind: 'retryJob',
      jobId: 7,
      runAfter: 31_000,
      error: 'hooks.example: answered 429',
      now: 1_000,
      endpoint: job.endpoint,
    });
  });

  it("our own database's trouble is retried without counting against the endpoint", async () => {
    const [, outcome] = await failOnce(new StorageBusyError(1));
    expect(outcome).toMatchObject({ kind: 'retryJob', jobId: 7, endpoint: null });
  });

  it('a failure that cannot succeed ends the job at once', async () => {
    const [, outcome] = await failOnce(new JobFailure('change at position 3 not found', false));
    expect(outcome).toMatchObject({ kind: 'killJob', jobId: 7, endpoint: job.endpoint });
  });
});
