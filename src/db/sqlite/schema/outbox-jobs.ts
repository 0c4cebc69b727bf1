import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { OUTBOX_JOB_KINDS, OUTBOX_JOB_STATUSES } from '../../../outbox/model.ts';

/**
 * Durable work that talks to Wix, enqueued in the same transaction as the state change that
 * calls for it and run by the outbox worker outside any transaction (src/outbox/).
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
  },
  (t) => [
    // Instance first: it also serves lookups by instance, and an installation's jobs share a page.
    uniqueIndex('outbox_jobs_once_per_installation').on(t.instanceId, t.kind, t.installationStartedAt),
    index('outbox_jobs_due_idx').on(t.status, t.runAfter),
  ],
);
