import type pg from 'pg';
import { OUTBOX_JOB_KINDS, OUTBOX_JOB_STATUSES, type OutboxJob, type OutboxJobKind, type OutboxJobStatus } from '../../../outbox/model.ts';
import type { PushEndpointHealth, StoreReads } from '../../store.ts';

/** The columns of outbox_jobs under the domain's names (int8 values arrive as numbers: connection.ts). */
const JOB_COLUMNS = `id, kind, instance_id AS "instanceId", installation_started_at AS "installationStartedAt", status, attempts,
  run_after AS "runAfter", lease_until AS "leaseUntil", last_error AS "lastError", created_at AS "createdAt", updated_at AS "updatedAt",
  completed_at AS "completedAt", endpoint, change_position AS "changePosition"`;

type OpenState = 'pending' | 'running' | 'dead';

/** The outbox's reads: jobs, the trigger-kept counters, what is open per kind, when the next job is due. */
export function createOutboxReads(pool: pg.Pool): StoreReads['outbox'] {
  return {
    async list(filter) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.status) where.push(`status = $${params.push(filter.status)}`);
      if (filter.instanceId) where.push(`instance_id = $${params.push(filter.instanceId)}`);
      const { rows } = await pool.query<OutboxJob>(
        `SELECT ${JOB_COLUMNS} FROM outbox_jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.push(filter.limit ?? 100)}`,
        params,
      );
      return rows;
    },

    /** Jobs per state, from the trigger-kept counters (no table scan). */
    async counts() {
      const { rows } = await pool.query<{ name: string; value: number }>(
        `SELECT name, value FROM registry_counters WHERE name LIKE 'outbox.%'`,
      );
      const counts = Object.fromEntries(OUTBOX_JOB_STATUSES.map((s) => [s, 0])) as Record<OutboxJobStatus, number>;
      for (const row of rows) counts[row.name.slice('outbox.'.length) as OutboxJobStatus] = row.value;
      return counts;
    },

    /** Per kind, the jobs pending, running and dead: a range of the (status, endpoint, run_after) index, not a scan. */
    async openCountsByKind() {
      const { rows } = await pool.query<{ kind: OutboxJobKind; status: OutboxJobStatus; n: number }>(
        `SELECT kind, status, count(*) AS n FROM outbox_jobs WHERE status IN ('pending', 'running', 'dead') GROUP BY kind, status`,
      );
      const found = new Map(rows.map((r) => [`${r.kind}/${r.status}`, r.n]));
      const states = ['pending', 'running', 'dead'] as const;
      return OUTBOX_JOB_KINDS.flatMap((kind) => states.map((state) => ({ kind, state, count: found.get(`${kind}/${state}`) ?? 0 })));
    },

    async nextDueAt(lane) {
      const { rows } = await (!lane
        ? pool.query<{ due: number | null }>(`SELECT min(run_after) AS due FROM outbox_jobs WHERE status = 'pending'`)
        : lane.endpoint === null
          ? pool.query<{ due: number | null }>(
              `SELECT min(run_after) AS due FROM outbox_jobs WHERE status = 'pending' AND endpoint IS NULL`,
            )
          : pool.query<{ due: number | null }>(`SELECT min(run_after) AS due FROM outbox_jobs WHERE status = 'pending' AND endpoint = $1`, [
              lane.endpoint,
            ]));
      return rows[0]?.due ?? null;
    },
  };
}

/** The push endpoints' health, with their open jobs. */
export function createPushReads(pool: pg.Pool): StoreReads['push'] {
  return {
    /** Every push endpoint, active ones first, then by URL (byte order, as SQLite's), with its open jobs (a range of the open states). */
    async endpoints() {
      const [endpoints, open] = await Promise.all([
        pool.query<Omit<PushEndpointHealth, OpenState>>(
          `SELECT url, active, last_success_at AS "lastSuccessAt", last_failure_at AS "lastFailureAt", last_error AS "lastError",
             consecutive_failures AS "consecutiveFailures", failed_attempts AS "failedAttempts", delivered
           FROM push_endpoints ORDER BY active DESC, url COLLATE "C"`,
        ),
        pool.query<{ endpoint: string; status: OpenState; n: number }>(
          `SELECT endpoint, status, count(*) AS n FROM outbox_jobs WHERE status IN ('pending', 'running', 'dead') AND endpoint IS NOT NULL GROUP BY endpoint, status`,
        ),
      ]);
      return endpoints.rows.map((row) => {
        const counts = { pending: 0, running: 0, dead: 0 };
        for (const o of open.rows) if (o.endpoint === row.url) counts[o.status] = o.n;
        return { ...row, ...counts };
      });
    },
  };
}
