/**
 * The write commands a RegistryStore runs, and what each does inside its transaction. A command
 * is plain data (it crosses into the SQLite writer thread as a message, or is queued for the next
 * PostgreSQL group commit); `runCommand` dispatches it to the engine-neutral transaction script
 * of the service that owns the tables it writes. Times come from the caller's clock.
 */
import { ensureSessionSecret } from '../dashboard/session-writes.ts';
import type { VerifiedDelivery } from '../installations/model.ts';
import {
  pruneRawJwts,
  recordCheck,
  recordDelivery,
  replayDelivery,
  type CheckOutcome,
  type CheckRecord,
  type IngestOutcome,
} from '../installations/writes.ts';
import type { OutboxJob } from '../outbox/model.ts';
import { finishJob, killJob, retryJob, type JobEffect } from '../outbox/outcomes.ts';
import type { DashboardSessionFilter, DashboardSessionRecord, NewTokenHandout, WriteStatements } from './store.ts';

export type WriteCommand =
  | { kind: 'ingest'; delivery: VerifiedDelivery; sha256: string; receivedAt: number }
  | { kind: 'replay'; deliveryId: number; now: number }
  | { kind: 'tokenHandout'; row: NewTokenHandout }
  /** Due Wix jobs; with `endpoint`, due push jobs of that endpoint (each kind of work claims its own). */
  | { kind: 'claimJobs'; now: number; limit: number; leaseMs: number; endpoint?: string | undefined }
  | { kind: 'finishJob'; job: FinishedJob; effect: JobEffect | null; now: number }
  | { kind: 'retryJob'; jobId: number; runAfter: number; error: string; now: number; endpoint?: string | null | undefined }
  | { kind: 'killJob'; jobId: number; error: string; now: number; endpoint?: string | null | undefined }
  | { kind: 'configurePushEndpoints'; urls: string[]; now: number }
  | { kind: 'releaseJobs'; jobIds: number[]; now: number }
  | { kind: 'recoverJobs'; now: number }
  | { kind: 'requeueJobs'; now: number; jobIds?: number[] | undefined }
  | { kind: 'recordCheck'; check: CheckRecord; now: number }
  | { kind: 'claimReconcileWalk'; name: string; owner: string; now: number; leaseMs: number }
  | {
      kind: 'releaseReconcileWalk';
      name: string;
      owner: string;
      cursor: string | null;
      nextRunAt: number;
      lastStop: string | null;
      now: number;
    }
  | { kind: 'pruneRawJwts'; receivedBefore: number; limit: number; now: number }
  | { kind: 'sessionSecret'; candidate: string; now: number }
  | { kind: 'createSession'; session: DashboardSessionRecord }
  | { kind: 'endSessions'; filter: DashboardSessionFilter }
  | { kind: 'endExpiredSessions'; now: number };

/** What recording a job's completion needs to know of it. */
export type FinishedJob = Pick<OutboxJob, 'id' | 'kind' | 'instanceId' | 'installationStartedAt'> & {
  endpoint?: string | null | undefined;
};

type ResultOf = {
  ingest: IngestOutcome;
  replay: Awaited<ReturnType<typeof replayDelivery>>;
  tokenHandout: void;
  claimJobs: OutboxJob[];
  finishJob: void;
  retryJob: void;
  killJob: void;
  releaseJobs: void;
  recoverJobs: number;
  requeueJobs: number;
  recordCheck: CheckOutcome;
  claimReconcileWalk: { cursor: string | null } | null;
  releaseReconcileWalk: boolean;
  pruneRawJwts: { pruned: number; done: boolean };
  sessionSecret: string;
  createSession: void;
  endSessions: number;
  endExpiredSessions: number;
  configurePushEndpoints: number;
};

export type WriteResult<C extends WriteCommand> = ResultOf[C['kind']];

/** Runs one command against the engine's statements, inside the transaction (and savepoint) the engine opened. */
export async function runCommand(tx: WriteStatements, command: WriteCommand): Promise<unknown> {
  switch (command.kind) {
    case 'ingest':
      return recordDelivery(tx, command);
    case 'replay':
      return replayDelivery(tx, command);
    case 'tokenHandout':
      return tx.insertTokenHandout(command.row);
    case 'claimJobs':
      return command.endpoint === undefined
        ? tx.claimDueJobs(command.now, command.limit, command.now + command.leaseMs)
        : tx.claimDuePushJobs(command.endpoint, command.now, command.limit, command.now + command.leaseMs);
    case 'finishJob':
      return finishJob(tx, command.job, command.effect, command.now);
    case 'retryJob':
      return retryJob(tx, command);
    case 'killJob':
      return killJob(tx, command);
    case 'configurePushEndpoints':
      return tx.configurePushEndpoints(command.urls, command.now);
    case 'releaseJobs':
      return tx.releaseJobs(command.jobIds, command.now);
    case 'recoverJobs':
      return tx.recoverAbandonedJobs(command.now);
    case 'requeueJobs':
      return tx.requeueJobs(command.now, command.jobIds);
    case 'recordCheck':
      return recordCheck(tx, command.check, command.now);
    case 'claimReconcileWalk':
      return tx.claimReconcileWalk(command.name, command.owner, command.now, command.now + command.leaseMs);
    case 'releaseReconcileWalk':
      return tx.releaseReconcileWalk(
        command.name,
        command.owner,
        { cursor: command.cursor, nextRunAt: command.nextRunAt, lastStop: command.lastStop },
        command.now,
      );
    case 'pruneRawJwts':
      return pruneRawJwts(tx, command);
    case 'sessionSecret':
      return ensureSessionSecret(tx, command);
    case 'createSession':
      return tx.insertSession(command.session);
    case 'endSessions':
      return tx.deleteSessions(command.filter);
    case 'endExpiredSessions':
      return tx.deleteExpiredSessions(command.now);
  }
}

/**
 * The instance a command works on, when it has one: engines with several writers (PostgreSQL
 * replicas) order a batch by it, so locks are always taken in the same order.
 */
export function instanceOf(command: WriteCommand): string | null {
  if (command.kind === 'ingest') return command.delivery.event.instanceId;
  if (command.kind === 'finishJob') return command.job.instanceId;
  if (command.kind === 'recordCheck') return command.check.instanceId;
  return null;
}
