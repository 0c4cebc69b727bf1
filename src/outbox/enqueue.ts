import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { outboxJobs, type OutboxJobKind } from '../db/schema/index.ts';
import type { StateTransition } from '../installations/record-event.ts';

/**
 * Reacts to installation state changes inside the delivery's transaction, so the job and the
 * state change commit together or not at all:
 * - a new installation (install or reinstall, with its AppInstalled received) gets
 *   "send APP_FINISHED_CONFIGURATION" — once per installation: the unique index on
 *   (kind, instance, installedAt) makes a second enqueue a no-op;
 * - any installation that becomes active gets "sync site fields from Get App Instance";
 * - a removal cancels what is still pending for the instance, so nothing is sent for an
 *   instance removed before its job ran.
 */
export function createOutboxEnqueuer(db: Db, wake: () => void) {
  function enqueue(kind: OutboxJobKind, instanceId: string, installationStartedAt: number, now: number) {
    db.insert(outboxJobs)
      .values({ kind, instanceId, installationStartedAt, status: 'pending', runAfter: now, createdAt: now, updatedAt: now })
      .onConflictDoNothing()
      .run();
  }

  return function onTransition({ instanceId, before, after }: StateTransition, now: number): void {
    if (after.status === 'removed') {
      if (before?.status !== 'removed') {
        db.update(outboxJobs)
          .set({ status: 'cancelled', updatedAt: now, lastError: 'instance removed before the job ran' })
          .where(and(eq(outboxJobs.instanceId, instanceId), inArray(outboxJobs.status, ['pending'])))
          .run();
      }
      return;
    }
    const newInstallation =
      !before || before.status !== 'active' || before.installedAt !== after.installedAt || before.installedAtInferred !== after.installedAtInferred;
    if (!newInstallation) return;
    if (!after.installedAtInferred) enqueue('finished_configuration', instanceId, after.installedAt, now);
    enqueue('sync_instance', instanceId, after.installedAt, now);
    // Runs after the surrounding transaction commits (flush is synchronous), never inside it.
    setImmediate(wake);
  };
}
