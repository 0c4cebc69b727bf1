import type { DatabaseHandle } from '../db/client.ts';
import type { OutboxJobKind } from '../db/schema/index.ts';
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
export function createOutboxEnqueuer(database: DatabaseHandle, wake: () => void) {
  const { sqlite } = database;
  // Prepared once: these run inside the delivery transaction. Column names mirror src/db/schema.
  const insertJob = sqlite.prepare<{ kind: OutboxJobKind; instanceId: string; startedAt: number; now: number }>(`
    INSERT INTO outbox_jobs (kind, instance_id, installation_started_at, status, attempts, run_after, created_at, updated_at)
    VALUES (@kind, @instanceId, @startedAt, 'pending', 0, @now, @now, @now)
    ON CONFLICT (instance_id, kind, installation_started_at) DO UPDATE SET
      status = 'pending', attempts = 0, run_after = excluded.run_after, lease_until = NULL, last_error = NULL, updated_at = excluded.updated_at
    -- Out of order, an installation can look removed for a while (a plan event at the same second
    -- as its AppInstalled arrived first, then a removal): the job that removal cancelled is due
    -- again now. Pending, running, done and dead jobs stay as they are.
    WHERE outbox_jobs.status = 'cancelled'`);
  const cancelPending = sqlite.prepare<{ now: number; instanceId: string }>(
    `UPDATE outbox_jobs SET status = 'cancelled', updated_at = @now, last_error = 'instance removed before the job ran'
     WHERE instance_id = @instanceId AND status = 'pending'`,
  );
  const cancelOtherInstallations = sqlite.prepare<{ now: number; instanceId: string; startedAt: number }>(
    `UPDATE outbox_jobs SET status = 'cancelled', updated_at = @now, last_error = 'superseded: not the current installation'
     WHERE instance_id = @instanceId AND status = 'pending' AND installation_started_at != @startedAt`,
  );

  return function onTransition({ instanceId, before, after }: StateTransition, now: number): void {
    if (after.status === 'removed') {
      if (before && before.status !== 'removed') cancelPending.run({ now, instanceId });
      return;
    }
    const newInstallation =
      !before || before.status !== 'active' || before.installedAt !== after.installedAt || before.installedAtInferred !== after.installedAtInferred;
    if (!newInstallation) return;
    // Out of order, jobs may be pending for an installation that turned out not to be the
    // current one (an older install whose removal arrived late, or an inferred start): they are
    // not sent, so the current installation gets its BI event once.
    if (before) cancelOtherInstallations.run({ now, instanceId, startedAt: after.installedAt });
    if (!after.installedAtInferred) insertJob.run({ kind: 'finished_configuration', instanceId, startedAt: after.installedAt, now });
    insertJob.run({ kind: 'sync_instance', instanceId, startedAt: after.installedAt, now });
    // Runs after the surrounding transaction commits (flush is synchronous), never inside it.
    setImmediate(wake);
  };
}
