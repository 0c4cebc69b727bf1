/** The outbox's own types: durable work that talks to Wix, run outside any transaction. */

export const OUTBOX_JOB_KINDS = ['finished_configuration', 'sync_instance'] as const;
export type OutboxJobKind = (typeof OUTBOX_JOB_KINDS)[number];
export const OUTBOX_JOB_STATUSES = ['pending', 'running', 'done', 'dead', 'cancelled'] as const;
export type OutboxJobStatus = (typeof OUTBOX_JOB_STATUSES)[number];

/** One job as stored. Times are epoch ms. */
export interface OutboxJob {
  id: number;
  kind: OutboxJobKind;
  instanceId: string;
  /** installedAt of the installation the job belongs to: one job per kind per installation. */
  installationStartedAt: number;
  status: OutboxJobStatus;
  attempts: number;
  /** Before this the job is not tried (backoff, Retry-After). */
  runAfter: number;
  /** A running job whose lease passed is taken back (its worker died). */
  leaseUntil: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  completedAt: number | null;
}
