import { sql } from 'drizzle-orm';
import { bigint, index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { OUTBOX_JOB_KINDS, OUTBOX_JOB_STATUSES } from '../../../outbox/model.ts';

/**
 * Durable work that talks to Wix (or pushes a change to one of the app's services), enqueued in
 * the same transaction as the state change that calls for it and run by the outbox workers
 * outside any transaction (src/outbox/).
 */
export const outboxJobs = pgTable(
  'outbox_jobs',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    kind: text('kind', { enum: OUTBOX_JOB_KINDS }).notNull(),
    instanceId: text('instance_id').notNull(),
    /** installedAt of the installation the job belongs to: one job per kind per installation. */
    installationStartedAt: bigint('installation_started_at', { mode: 'number' }).notNull(),
    status: text('status', { enum: OUTBOX_JOB_STATUSES }).notNull().default('pending'),
    attempts: bigint('attempts', { mode: 'number' }).notNull().default(0),
    /** Epoch ms before which the job is not tried (backoff, Retry-After). */
    runAfter: bigint('run_after', { mode: 'number' }).notNull(),
    /** A running job whose lease passed is reclaimed (its worker died). */
    leaseUntil: bigint('lease_until', { mode: 'number' }),
    lastError: text('last_error'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
    completedAt: bigint('completed_at', { mode: 'number' }),
    /** push_change: the endpoint URL (one of push_endpoints); null for the jobs that call Wix. */
    endpoint: text('endpoint'),
    /** push_change: the change's position (changes.position); null for the jobs that call Wix. */
    changePosition: bigint('change_position', { mode: 'number' }),
  },
  (t) => [
    // Wix jobs: once per kind per installation. Instance first: it also serves lookups by
    // instance, and an installation's jobs share a page.
    uniqueIndex('outbox_jobs_once_per_installation')
      .on(t.instanceId, t.kind, t.installationStartedAt)
      .where(sql`${t.changePosition} IS NULL`),
    // Each kind of work claims its own (Wix jobs: endpoint NULL; push jobs: their endpoint): a
    // claim, and "when is the next one due", are one range of this index per lane, however many
    // jobs of another lane are due or waiting.
    index('outbox_jobs_due_idx').on(t.status, t.endpoint, t.runAfter),
    // The push claim's question "is an earlier change of this instance still undelivered to this
    // endpoint?", as one range. Only undelivered push jobs are in it, so it stays small.
    index('outbox_jobs_push_open_idx')
      .on(t.endpoint, t.instanceId, t.changePosition)
      .where(sql`${t.changePosition} IS NOT NULL AND ${t.status} IN ('pending', 'running', 'dead')`),
  ],
);
