import type { WriteStatements } from '../db/store.ts';
import type { StateTransition } from '../installations/writes.ts';

/**
 * Reacts to an installation's state change inside the delivery's transaction, so the job and the
 * state change commit together or not at all:
 * - a new installation the registry configures (`after.configure`: begun by an AppInstalled, or
 *   by a check that asked for it) gets "send APP_FINISHED_CONFIGURATION" — once per installation:
 *   jobs are unique on (instance, kind, installedAt), so a second enqueue is a no-op, and a spell
 *   keeps its installedAt when another AppInstalled joins it (state-machine.ts);
 * - any installation that becomes active gets "sync site fields from Get App Instance", unless
 *   the caller has just learned them (`siteKnown`: a check with Wix);
 * - a removal cancels what is still pending for the instance, so nothing is sent for an
 *   instance removed before its job ran.
 * Returns true when it enqueued a job (the worker can look at once).
 */
export async function reactToTransition(
  tx: WriteStatements,
  { instanceId, before, after }: StateTransition,
  now: number,
  options: { siteKnown?: boolean } = {},
): Promise<boolean> {
  if (after.status === 'removed') {
    if (before && before.status !== 'removed') await tx.cancelPendingJobs(instanceId, 'instance removed before the job ran', now);
    return false;
  }
  const newInstallation =
    !before ||
    before.status !== 'active' ||
    before.installedAt !== after.installedAt ||
    before.installedAtInferred !== after.installedAtInferred;
  if (!newInstallation) return false;
  // Out of order, jobs may be pending for an installation that turned out not to be the current
  // one (an older install whose removal arrived late, or an inferred start): they are not sent,
  // so the current installation gets its BI event once.
  if (before) await tx.cancelPendingJobs(instanceId, 'superseded: not the current installation', now, after.installedAt);
  if (after.configure) await tx.enqueueJob('finished_configuration', instanceId, after.installedAt, now);
  if (!options.siteKnown) await tx.enqueueJob('sync_instance', instanceId, after.installedAt, now);
  return after.configure || !options.siteKnown;
}

/**
 * A change was recorded (src/changes/record.ts): one job per configured push endpoint, in the
 * change's transaction, so a committed change is always pushed and a rolled-back one never is.
 * Per endpoint, a change of an instance is claimed only once the earlier ones of that instance are
 * done (the claim's rule, src/db/store.ts `claimDuePushJobs`).
 */
export async function enqueuePushDeliveries(
  tx: WriteStatements,
  change: { changePosition: number; instanceId: string; installationStartedAt: number; now: number },
): Promise<number> {
  return tx.enqueuePushJobs(change.changePosition, change.instanceId, change.installationStartedAt, change.now);
}
