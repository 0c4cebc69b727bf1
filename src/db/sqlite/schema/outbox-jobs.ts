import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { OUTBOX_JOB_KINDS, OUTBOX_JOB_STATUSES } from '../../../outbox/model.ts';

/**
 * Durable work that talks to Wix (or pushes a change to one of the app's services), enqueued in
 * the same transaction as the state change that calls for it and run by the outbox workers
 * outside any transaction (src/outbox/).
 */
export const outboxJobs = sqliteTable(
  'outbox_jobs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    kind: text('kind', { enum: OUTBOX_JOB_KINDS }).notNull(),
    instanceId: text('instance_id').notNull(),
    /** installedAt of the installation the job belongs to: one job per kind per installation. */
    installationStartedAt: integer('installation_started_at').notNull(),
    status: text('status', { enum: OUTBOX_JOB_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** Epoch ms before which the job is not tried (backoff, Retry-After). */
    runAfter: integer('run_after').notNull(),
    /** A running job whose lease passed is reclaimed (its worker died). */
    leaseUntil: integer('lease_until'),
    lastError: text('last_error'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    completedAt: integer('completed_at'),
    /** push_change: the endpoint URL (one of push_endpoints); null for the jobs that call Wix. */
    endpoint: text('endpoint'),
    /** push_change: the change's position (changes.position); null for the jobs that call Wix. */
    changePosition: integer('change_position'),
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
