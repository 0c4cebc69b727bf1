/**
 * The change feed's write: the only code that appends to `changes`. Called from inside the
 * transaction scripts that change an installation (src/installations/writes.ts, and through it
 * the outbox's outcomes and reconciliation's repairs), after they wrote, so the change commits
 * with the state it describes or not at all.
 */
import { randomUUID } from 'node:crypto';
import type { WriteStatements } from '../db/store.ts';
import type { InstallationRecord } from '../installations/model.ts';
import { enqueuePushDeliveries } from '../outbox/enqueue.ts';
import { classifyChange } from './classify.ts';
import type { ChangeRecord } from './model.ts';

export interface ChangeContext {
  instanceId: string;
  /** The installation as stored before the script wrote (undefined: the registry did not know it). */
  before: InstallationRecord | undefined;
  /** The Wix event's iat, or when the registry learned what it wrote (a job's outcome, a check). */
  occurredAt: number;
  now: number;
}

/**
 * Appends the change the script's writes made to the instance, if they made a visible one: reads
 * the installation as it now is (the change's `installation`), classifies the transition
 * (classify.ts: one change per transition), stores it, and enqueues its push to every configured
 * endpoint (one outbox job each). Writes that changed nothing visible (a resend, a stale event, a
 * replay or a site sync that learned nothing) append nothing. Returns the change, or null.
 */
export async function recordChange(tx: WriteStatements, context: ChangeContext): Promise<ChangeRecord | null> {
  const after = await tx.installation(context.instanceId);
  if (!after) return null;
  const type = classifyChange(context.before, after);
  if (type === null) return null;
  const change = {
    // Random rather than derived from the position: a database restored from a backup hands out
    // positions again, and receivers that dedupe by id must not drop the new changes.
    id: `chg_${randomUUID().replaceAll('-', '')}`,
    type,
    instanceId: context.instanceId,
    occurredAt: context.occurredAt,
    recordedAt: context.now,
    installation: after,
  };
  const position = await tx.insertChange(change);
  await enqueuePushDeliveries(tx, {
    changePosition: position,
    instanceId: context.instanceId,
    installationStartedAt: after.installedAt,
    now: context.now,
  });
  return { position, ...change };
}
