/**
 * The outbox's own types: durable work that talks to the outside world (Wix, and the app's own
 * services that receive pushed changes), run outside any transaction.
 */

export const OUTBOX_JOB_KINDS = ['finished_configuration', 'sync_instance', 'push_change'] as const;
export type OutboxJobKind = (typeof OUTBOX_JOB_KINDS)[number];
export const OUTBOX_JOB_STATUSES = ['pending', 'running', 'done', 'dead', 'cancelled'] as const;
export type OutboxJobStatus = (typeof OUTBOX_JOB_STATUSES)[number];

/** The kinds that call Wix; `push_change` POSTs a change to one of REGISTRY_EVENT_ENDPOINTS. */
export const WIX_JOB_KINDS = ['finished_configuration', 'sync_instance'] as const satisfies readonly OutboxJobKind[];

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
  /** push_change: the URL the change goes to (one of REGISTRY_EVENT_ENDPOINTS); null for Wix jobs. */
  endpoint: string | null;
  /** push_change: the change's position in the feed; null for Wix jobs. */
  changePosition: number | null;
}
