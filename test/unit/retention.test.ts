import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createManualClock } from '../../src/clock.ts';
import type { WriteCommand } from '../../src/db/commands.ts';
import { createRetention, RETENTION_FIRST_RUN_DELAY_MS, RETENTION_INTERVAL_MS } from '../../src/installations/retention.ts';
import { createLogger } from '../../src/logger.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 20);

/** A store whose prune commands report `backlog` batches due, then none. */
function fakeStore(backlog: number) {
  const commands: WriteCommand[] = [];
  let due = backlog;
  return {
    commands,
    prunes: () => commands.filter((c) => c.kind === 'pruneRawJwts'),
    refill: (n: number) => (due = n),
    store: {
      async write(command: WriteCommand): Promise<never> {
        commands.push(command);
        if (command.kind === 'pruneRawJwts') {
          const pruned = due > 0 ? command.limit : 0;
          due = Math.max(0, due - 1);
          return { pruned, done: due === 0 } as never;
        }
        return 0 as never;
      },
    },
  };
}

describe('retention on a timer (the server)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('first runs a minute after start, then every interval; each run prunes batch after batch with a pause between', async () => {
    const fake = fakeStore(3);
    const clock = createManualClock(NOW);
    const retention = createRetention({
      store: fake.store,
      clock,
      logger: createLogger('silent'),
      rawDeliveryRetentionDays: 30,
      batchPauseMs: 20,
    });
    retention.start();
    await vi.advanceTimersByTimeAsync(RETENTION_FIRST_RUN_DELAY_MS - 1);
    expect(fake.commands).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.prunes()).toHaveLength(1);
    expect(fake.prunes()[0]).toMatchObject({ receivedBefore: NOW - 30 * DAY, limit: 200 });
    await vi.advanceTimersByTimeAsync(19);
    expect(fake.prunes()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.prunes()).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(20);
    expect(fake.prunes()).toHaveLength(3); // the backlog is done: no fourth batch
    expect(fake.commands.map((c) => c.kind)).toEqual(['pruneRawJwts', 'pruneRawJwts', 'pruneRawJwts', 'endExpiredSessions']);
    fake.refill(1);
    await vi.advanceTimersByTimeAsync(RETENTION_INTERVAL_MS);
    expect(fake.prunes()).toHaveLength(4);
    await retention.stop();
    await vi.advanceTimersByTimeAsync(2 * RETENTION_INTERVAL_MS);
    expect(fake.prunes()).toHaveLength(4);
  });

  it('waits longer between batches while webhooks stream in', async () => {
    const fake = fakeStore(3);
    let busy = true;
    const retention = createRetention({
      store: fake.store,
      clock: createManualClock(NOW),
      logger: createLogger('silent'),
      rawDeliveryRetentionDays: 30,
      busy: () => busy,
      batchPauseMs: 20,
      busyPauseMs: 1_000,
      firstRunDelayMs: 0,
    });
    retention.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.prunes()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(fake.prunes()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.prunes()).toHaveLength(2);
    busy = false;
    await vi.advanceTimersByTimeAsync(1_000); // the pause already begun ends; the next is short
    await vi.advanceTimersByTimeAsync(20);
    expect(fake.prunes()).toHaveLength(3);
    await retention.stop();
  });

  it('stop() ends a run after its current batch, without waiting out a pause', async () => {
    const fake = fakeStore(1_000);
    const retention = createRetention({
      store: fake.store,
      clock: createManualClock(NOW),
      logger: createLogger('silent'),
      rawDeliveryRetentionDays: 30,
      firstRunDelayMs: 0,
      batchPauseMs: 60_000,
    });
    retention.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.prunes()).toHaveLength(1);
    await retention.stop();
    expect(fake.prunes()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10 * RETENTION_INTERVAL_MS);
    expect(fake.prunes()).toHaveLength(1);
  });
});
