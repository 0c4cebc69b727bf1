import { and, asc, desc, eq, inArray, like, lt, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import {
  installations,
  outboxJobs,
  registryCounters,
  OUTBOX_JOB_KINDS,
  OUTBOX_JOB_STATUSES,
  type OutboxJobRow,
  type OutboxJobStatus,
} from '../db/schema/index.ts';

/** How long a claimed job may run before another worker may take it back (its worker died). */
export const OUTBOX_LEASE_MS = 60_000;

/** The outbox table's operations: claims, outcomes, and what the CLI and /v1/stats read. */
export function createOutboxStore(db: Db) {
  return {
    /** Claims up to `limit` due jobs: pending ones whose time has come, and running ones whose lease lapsed. */
    claimDue(now: number, limit: number): OutboxJobRow[] {
      const due = db
        .select({ id: outboxJobs.id })
        .from(outboxJobs)
        .where(
          or(
            and(eq(outboxJobs.status, 'pending'), lte(outboxJobs.runAfter, now)),
            and(eq(outboxJobs.status, 'running'), lt(outboxJobs.leaseUntil, now)),
          ),
        )
        .orderBy(asc(outboxJobs.runAfter))
        .limit(limit);
      return db
        .update(outboxJobs)
        .set({ status: 'running', leaseUntil: now + OUTBOX_LEASE_MS, attempts: sql`${outboxJobs.attempts} + 1`, updatedAt: now })
        .where(inArray(outboxJobs.id, due))
        .returning()
        .all();
    },

    /** Wix accepted: the job is done; for the BI event, the installation is configured. */
    markDone(job: OutboxJobRow, now: number, effect?: () => void): void {
      db.transaction((tx) => {
        effect?.();
        tx.update(outboxJobs).set({ status: 'done', completedAt: now, updatedAt: now, leaseUntil: null, lastError: null }).where(eq(outboxJobs.id, job.id)).run();
        if (job.kind === 'finished_configuration') {
          tx.update(installations)
            .set({ configuredAt: now })
            .where(and(eq(installations.instanceId, job.instanceId), eq(installations.installedAt, job.installationStartedAt)))
            .run();
        }
      });
    },

    retryLater(job: OutboxJobRow, runAfter: number, error: string, now: number): void {
      db.update(outboxJobs).set({ status: 'pending', runAfter, lastError: error, leaseUntil: null, updatedAt: now }).where(eq(outboxJobs.id, job.id)).run();
    },

    markDead(job: OutboxJobRow, error: string, now: number): void {
      db.update(outboxJobs).set({ status: 'dead', lastError: error, leaseUntil: null, updatedAt: now }).where(eq(outboxJobs.id, job.id)).run();
    },

    /** Returns jobs to the queue without counting the attempt (graceful shutdown mid-call). */
    release(ids: number[], now: number): void {
      if (ids.length === 0) return;
      db.update(outboxJobs)
        .set({ status: 'pending', leaseUntil: null, attempts: sql`max(${outboxJobs.attempts} - 1, 0)`, updatedAt: now })
        .where(and(inArray(outboxJobs.id, ids), eq(outboxJobs.status, 'running')))
        .run();
    },

    /** On start: jobs a previous process was running when it died are due again now. */
    recoverAbandoned(now: number): number {
      return db.update(outboxJobs).set({ status: 'pending', leaseUntil: null, runAfter: now, updatedAt: now }).where(eq(outboxJobs.status, 'running')).run().changes;
    },

    /** Dead jobs (or the given ones) back to pending, attempts reset. */
    retry(now: number, ids?: number[]): number {
      const which = ids && ids.length > 0 ? inArray(outboxJobs.id, ids) : eq(outboxJobs.status, 'dead');
      return db
        .update(outboxJobs)
        .set({ status: 'pending', attempts: 0, runAfter: now, leaseUntil: null, updatedAt: now })
        .where(and(which, inArray(outboxJobs.status, ['dead', 'cancelled', 'pending'])))
        .run().changes;
    },

    list(filter: { status?: OutboxJobStatus | undefined; instanceId?: string | undefined; limit?: number }): OutboxJobRow[] {
      const conditions = [];
      if (filter.status) conditions.push(eq(outboxJobs.status, filter.status));
      if (filter.instanceId) conditions.push(eq(outboxJobs.instanceId, filter.instanceId));
      return db
        .select()
        .from(outboxJobs)
        .where(and(...conditions))
        .orderBy(desc(outboxJobs.id))
        .limit(filter.limit ?? 100)
        .all();
    },

    /** Jobs per state, from the trigger-maintained counters (no table scan). */
    counts(): Record<OutboxJobStatus, number> {
      const rows = db.select().from(registryCounters).where(like(registryCounters.name, 'outbox.%')).all();
      const counts = Object.fromEntries(OUTBOX_JOB_STATUSES.map((s) => [s, 0])) as Record<OutboxJobStatus, number>;
      for (const row of rows) counts[row.name.slice('outbox.'.length) as OutboxJobStatus] = row.value;
      return counts;
    },

    /**
     * Open (pending, running) and dead jobs per kind, zeros included, for /metrics. Reads only
     * those rows, through the status index; done and cancelled jobs, which grow forever, are
     * counted per state by counts() (a per-kind count of them would scan the table).
     */
    openCountsByKind(): { kind: string; state: OutboxJobStatus; count: number }[] {
      const states = ['pending', 'running', 'dead'] as const;
      const rows = db
        .select({ kind: outboxJobs.kind, state: outboxJobs.status, count: sql<number>`count(*)` })
        .from(outboxJobs)
        .where(inArray(outboxJobs.status, [...states]))
        .groupBy(outboxJobs.kind, outboxJobs.status)
        .all();
      const found = new Map(rows.map((row) => [`${row.kind}/${row.state}`, row.count]));
      return OUTBOX_JOB_KINDS.flatMap((kind) => states.map((state) => ({ kind, state, count: found.get(`${kind}/${state}`) ?? 0 })));
    },

    /** Soonest time a pending job becomes due, for the worker's sleep. */
    nextDueAt(): number | null {
      const row = db
        .select({ at: sql<number | null>`min(${outboxJobs.runAfter})` })
        .from(outboxJobs)
        .where(eq(outboxJobs.status, 'pending'))
        .get();
      return row?.at ?? null;
    },
  };
}

export type OutboxStore = ReturnType<typeof createOutboxStore>;
