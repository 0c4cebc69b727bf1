import type pg from 'pg';
import type { NewChange } from '../../changes/model.ts';
import type { DayContribution } from '../../installations/daily-summary.ts';
import type { EventPayload, InstallationRecord, SiteDescription } from '../../installations/model.ts';
import type { DerivedInstallation, EventSource, HistoryEvent } from '../../installations/state-machine.ts';
import type { OutboxJob } from '../../outbox/model.ts';
import {
  INSTALLATION_COLUMNS,
  INSTANCE_LOCK,
  PUSH_ENDPOINT_LOCK,
  UPSERT_INSTALLATION,
  ENQUEUE_JOB,
  CLAIM_DUE,
  CLAIM_DUE_PUSH,
  CLAIM_WALK,
} from './write-sql.ts';
import type { DashboardSessionFilter, DashboardSessionRecord, NewDelivery, NewTokenHandout, WriteStatements } from '../store.ts';

/** The channel every commit that appended changes notifies, with its highest position (LISTEN: notifications.ts). */
export const CHANGES_CHANNEL = 'wix_registry_changes';
/**
 * The change-feed lock (see src/db/postgres/schema/changes.ts): a transaction-scoped advisory lock
 * on this constant, held from before a position is drawn until COMMIT, so positions commit in order.
 */
export const CHANGE_FEED_LOCK = 0x77726366; // "wrcf"

/** The statements, plus what the writer needs around a transaction. */
export type PostgresWriteStatements = WriteStatements & {
  /** The writer took the change-feed lock at BEGIN, for the whole transaction (before any instance lock; see writer.ts). */
  changeFeedLocked(): void;
  /** The highest position insertChange handed out since the last call (0: none), and forgets it. */
  takeAppendedPosition(): number;
  /** Before a command's savepoint: what to restore if it rolls back (the locks it took go with it). */
  savepointTaken(): void;
  savepointRolledBack(): void;
  /** At the end of a transaction, committed or not: every lock went with it. */
  transactionEnded(): void;
};

/**
 * WriteStatements for PostgreSQL, on the one connection the group commit's transaction runs on
 * (writer.ts). Every statement is parameterized; the ones on the delivery path are prepared once
 * per connection by name. Column names mirror src/db/postgres/schema. Besides what SQLite does,
 * this engine locks: one advisory lock per instance (several replicas write one database), the
 * change-feed lock, and a lock per push endpoint's claims.
 */
export function createPostgresWriteStatements(client: pg.ClientBase): PostgresWriteStatements {
  const run = async <R extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    values: unknown[],
    name?: string,
  ): Promise<pg.QueryResult<R>> => client.query<R>(name ? { name, text, values } : { text, values });
  const rows = async <R extends pg.QueryResultRow>(text: string, values: unknown[], name?: string): Promise<R[]> =>
    (await run<R>(text, values, name)).rows;
  const count = async (text: string, values: unknown[], name?: string): Promise<number> => (await run(text, values, name)).rowCount ?? 0;

  let appendedPosition = 0;
  let feedLocked = false;
  // Instances locked in this transaction (a script asks again for the lock the writer took).
  let lockedInstances = new Set<string>();
  let beforeSavepoint = lockedInstances;
  // The row writeDerivedState just wrote, as RETURNING gave it: the change feed reads it right
  // after (recordChange), and a round trip saved per state change is throughput on this path.
  // Kept within one command only, and forgotten on any other write to installations.
  let justWritten: InstallationRecord | null = null;

  return {
    changeFeedLocked() {
      feedLocked = true;
    },
    takeAppendedPosition() {
      const position = appendedPosition;
      appendedPosition = 0;
      return position;
    },
    savepointTaken() {
      justWritten = null;
      beforeSavepoint = new Set(lockedInstances);
    },
    savepointRolledBack() {
      justWritten = null;
      // Locks taken after a savepoint go when the transaction rolls back to it.
      lockedInstances = beforeSavepoint;
    },
    transactionEnded() {
      justWritten = null;
      feedLocked = false;
      lockedInstances = new Set();
      beforeSavepoint = lockedInstances;
    },

    async lockInstance(instanceId) {
      if (lockedInstances.has(instanceId)) return;
      await run(`SELECT ${INSTANCE_LOCK}`, [instanceId], 'wr_lock_instance');
      lockedInstances.add(instanceId);
    },
    async insertDelivery(d: NewDelivery) {
      // One round trip for both rows. The raw JWT lives only in delivery_jwts; the registry's own
      // events (no JWT) have no row there.
      const [row] = await rows<{ id: number }>(
        `WITH delivery AS (
           INSERT INTO deliveries (jwt_sha256, event_type, instance_id, issued_at, received_at, outcome, payload, source)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) ON CONFLICT (jwt_sha256) DO NOTHING RETURNING id),
         raw AS (INSERT INTO delivery_jwts (delivery_id, jwt) SELECT id, $9::text FROM delivery WHERE $9::text <> '')
         SELECT id FROM delivery`,
        [d.sha256, d.eventType, d.instanceId, d.issuedAt, d.receivedAt, d.outcome, JSON.stringify(d.payload), d.source ?? 'wix', d.jwt],
        'wr_insert_delivery',
      );
      return row?.id ?? null;
    },
    async deliveryInstance(deliveryId) {
      const [row] = await rows<{ instance_id: string }>('SELECT instance_id FROM deliveries WHERE id = $1', [deliveryId]);
      return row?.instance_id ?? null;
    },
    async historyOf(instanceId): Promise<HistoryEvent[]> {
      const history = await rows<{
        id: number;
        event_type: string;
        issued_at: number;
        payload: EventPayload | null;
        jwt_sha256: string;
        source: EventSource;
      }>(
        'SELECT id, event_type, issued_at, payload, jwt_sha256, source FROM deliveries WHERE instance_id = $1',
        [instanceId],
        'wr_history',
      );
      return history.map((r) => ({
        eventType: r.event_type,
        issuedAt: r.issued_at,
        data: r.payload?.data ?? {},
        accountInfo: r.payload?.accountInfo,
        tieBreaker: r.jwt_sha256,
        source: r.source,
        arrival: r.id,
      }));
    },
    async installation(instanceId) {
      if (justWritten?.instanceId === instanceId) return { ...justWritten };
      const [row] = await rows<InstallationRecord>(
        `SELECT ${INSTALLATION_COLUMNS} FROM installations WHERE instance_id = $1`,
        [instanceId],
        'wr_installation',
      );
      return row;
    },
    async writeDerivedState(instanceId: string, a: DerivedInstallation, now: number) {
      justWritten = null;
      [justWritten = null] = await rows<InstallationRecord>(
        UPSERT_INSTALLATION,
        [
          instanceId,
          a.appId,
          a.status,
          a.installedAt,
          a.installedAtInferred,
          a.removedAt,
          a.originInstanceId,
          a.lastEventAt,
          now,
          a.planVendorProductId,
          a.planCycle,
          a.planExpiresOn,
          a.planAutoRenewing,
          a.planChangedAt,
          a.siteId,
          a.accountId,
        ],
        'wr_upsert_installation',
      );
    },
    async writeSite(instanceId: string, site: SiteDescription, now: number) {
      justWritten = null;
      await run(
        `UPDATE installations SET site_id = coalesce($1, site_id), site_name = $2, site_url = $3, app_version = $4, is_free = $5, site_synced_at = $6
         WHERE instance_id = $7`,
        [site.siteId, site.siteName, site.siteUrl, site.appVersion, site.isFree, now, instanceId],
      );
    },
    writeConfigured: async (instanceId, startedAt, now) => {
      justWritten = null;
      const updated = await count(
        'UPDATE installations SET configured_at = $1 WHERE instance_id = $2 AND installed_at = $3 AND configured_at IS NULL',
        [now, instanceId, startedAt],
      );
      return updated > 0;
    },
    async insertChange(change: NewChange) {
      // Normally taken at BEGIN (writer.ts); taken here too for a command the writer did not
      // expect to record a change (re-taking an advisory lock in one session only stacks it).
      if (!feedLocked) await run('SELECT pg_advisory_xact_lock($1)', [CHANGE_FEED_LOCK], 'wr_lock_feed');
      // pg_notify is delivered at COMMIT, and dropped with a rolled-back savepoint.
      const [row] = await rows<{ position: number }>(
        `WITH appended AS (
           INSERT INTO changes (id, type, instance_id, occurred_at, recorded_at, installation) VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING position)
         SELECT position, pg_notify('${CHANGES_CHANNEL}', position::text) FROM appended`,
        [change.id, change.type, change.instanceId, change.occurredAt, change.recordedAt, JSON.stringify(change.installation)],
        'wr_insert_change',
      );
      const position = row!.position;
      appendedPosition = Math.max(appendedPosition, position);
      return position;
    },
    async addDailyContributions(delta: Map<number, DayContribution>) {
      for (const [day, d] of delta) {
        await run(
          `INSERT INTO daily_summary (day, installs, removals, churn_1d, churn_7d, churn_30d) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (day) DO UPDATE SET installs = daily_summary.installs + excluded.installs, removals = daily_summary.removals + excluded.removals,
             churn_1d = daily_summary.churn_1d + excluded.churn_1d, churn_7d = daily_summary.churn_7d + excluded.churn_7d,
             churn_30d = daily_summary.churn_30d + excluded.churn_30d`,
          [day, d.installs, d.removals, d.churn1d, d.churn7d, d.churn30d],
          'wr_add_day',
        );
      }
    },
    async markChecked(instanceId, at) {
      justWritten = null;
      await run('UPDATE installations SET checked_at = $1 WHERE instance_id = $2', [at, instanceId]);
    },

    async enqueueJob(kind, instanceId, startedAt, now) {
      await run(ENQUEUE_JOB, [kind, instanceId, startedAt, now], 'wr_enqueue_job');
    },
    async cancelPendingJobs(instanceId, reason, now, exceptStartedAt) {
      // Wix jobs only: a removal is itself a change, and its push (and the earlier ones) must still go out.
      await run(
        `UPDATE outbox_jobs SET status = 'cancelled', updated_at = $1, last_error = $2
         WHERE instance_id = $3 AND status = 'pending' AND change_position IS NULL AND ($4::bigint IS NULL OR installation_started_at <> $4::bigint)`,
        [now, reason, instanceId, exceptStartedAt ?? null],
        'wr_cancel_pending',
      );
    },
    claimDueJobs: async (now, limit, leaseUntil) => rows<OutboxJob>(CLAIM_DUE, [leaseUntil, now, limit], 'wr_claim_due'),
    enqueuePushJobs: async (changePosition, instanceId, startedAt, now) =>
      count(
        `INSERT INTO outbox_jobs (kind, instance_id, installation_started_at, status, attempts, run_after, created_at, updated_at, endpoint, change_position)
         SELECT 'push_change', $1::text, $2::bigint, 'pending', 0, $3::bigint, $3::bigint, $3::bigint, url, $4::bigint FROM push_endpoints WHERE active`,
        [instanceId, startedAt, now, changePosition],
        'wr_enqueue_push',
      ),
    async claimDuePushJobs(endpoint, now, limit, leaseUntil) {
      // Claims of one endpoint one at a time across replicas: SKIP LOCKED alone would pass over an
      // earlier change another replica is claiming and hand out a later one of the same instance.
      await run(`SELECT ${PUSH_ENDPOINT_LOCK}`, [endpoint], 'wr_lock_push');
      return rows<OutboxJob>(CLAIM_DUE_PUSH, [endpoint, now, limit, leaseUntil], 'wr_claim_due_push');
    },
    async configurePushEndpoints(urls, now) {
      for (const url of new Set(urls)) {
        await run(
          'INSERT INTO push_endpoints (url, active, added_at) VALUES ($1, true, $2) ON CONFLICT (url) DO UPDATE SET active = true',
          [url, now],
        );
      }
      await run('UPDATE push_endpoints SET active = false WHERE active AND url <> ALL($1::text[])', [[...urls]]);
      return count(
        `UPDATE outbox_jobs SET status = 'cancelled', updated_at = $1, last_error = 'endpoint no longer in REGISTRY_EVENT_ENDPOINTS', lease_until = NULL
         WHERE endpoint IS NOT NULL AND endpoint <> ALL($2::text[]) AND change_position IS NOT NULL AND status = 'pending'`,
        [now, [...urls]],
      );
    },
    async recordPushAttempt(endpoint, outcome, now) {
      if (outcome.ok) {
        await run('UPDATE push_endpoints SET last_success_at = $1, consecutive_failures = 0, delivered = delivered + 1 WHERE url = $2', [
          now,
          endpoint,
        ]);
      } else {
        await run(
          `UPDATE push_endpoints SET last_failure_at = $1, last_error = $2, consecutive_failures = consecutive_failures + 1, failed_attempts = failed_attempts + 1
           WHERE url = $3`,
          [now, outcome.error, endpoint],
        );
      }
    },
    async finishJob(jobId, now) {
      await run(
        `UPDATE outbox_jobs SET status = 'done', completed_at = $1, updated_at = $1, lease_until = NULL, last_error = NULL WHERE id = $2`,
        [now, jobId],
        'wr_finish_job',
      );
    },
    async retryJobLater(jobId, runAfter, error, now) {
      await run(
        `UPDATE outbox_jobs SET status = 'pending', run_after = $1, last_error = $2, lease_until = NULL, updated_at = $3 WHERE id = $4`,
        [runAfter, error, now, jobId],
      );
    },
    async killJob(jobId, error, now) {
      await run(`UPDATE outbox_jobs SET status = 'dead', last_error = $1, lease_until = NULL, updated_at = $2 WHERE id = $3`, [
        error,
        now,
        jobId,
      ]);
    },
    async releaseJobs(jobIds, now) {
      if (jobIds.length === 0) return;
      await run(
        `UPDATE outbox_jobs SET status = 'pending', lease_until = NULL, attempts = greatest(attempts - 1, 0), updated_at = $1
         WHERE id = ANY($2::bigint[]) AND status = 'running'`,
        [now, [...jobIds]],
      );
    },
    // Only leases that lapsed: on one database, a running job may belong to a live replica (its
    // lease is renewed by finishing within OUTBOX_LEASE_MS), which a replica starting up must not take.
    recoverAbandonedJobs: async (now) =>
      count(
        `UPDATE outbox_jobs SET status = 'pending', lease_until = NULL, run_after = $1, updated_at = $1 WHERE status = 'running' AND lease_until < $1`,
        [now],
      ),
    async requeueJobs(now, jobIds) {
      if (!jobIds || jobIds.length === 0) {
        return count(
          `UPDATE outbox_jobs SET status = 'pending', attempts = 0, run_after = $1, lease_until = NULL, updated_at = $1 WHERE status = 'dead'`,
          [now],
        );
      }
      return count(
        `UPDATE outbox_jobs SET status = 'pending', attempts = 0, run_after = $1, lease_until = NULL, updated_at = $1
         WHERE id = ANY($2::bigint[]) AND status IN ('dead', 'cancelled', 'pending')`,
        [now, [...jobIds]],
      );
    },

    async insertTokenHandout(row: NewTokenHandout) {
      await run(
        'INSERT INTO token_handouts (api_key_id, instance_id, requested_at, outcome, token_expires_at, request_id) VALUES ($1, $2, $3, $4, $5, $6)',
        // The id as asked for, but PostgreSQL text cannot hold U+0000: the audit keeps U+FFFD in its place.
        [
          row.apiKeyId,
          row.instanceId.replaceAll('\u0000', '\uFFFD'),
          row.requestedAt,
          row.outcome,
          row.tokenExpiresAt ?? null,
          row.requestId ?? null,
        ],
        'wr_insert_handout',
      );
    },
    async claimReconcileWalk(name, owner, now, leaseUntil) {
      const [row] = await rows<{ cursor: string | null }>(CLAIM_WALK, [name, owner, now, leaseUntil]);
      return row ? { cursor: row.cursor } : null;
    },
    releaseReconcileWalk: async (name, owner, update, now) =>
      (await count(
        `UPDATE reconcile_schedule SET cursor = $1, next_run_at = $2, last_stop = $3, lease_owner = NULL, lease_until = 0, updated_at = $4
         WHERE name = $5 AND lease_owner = $6`,
        [update.cursor, update.nextRunAt, update.lastStop, now, name, owner],
      )) > 0,
    deliveryReceiptsAfter: async (afterId, limit) =>
      rows<{ id: number; receivedAt: number }>(
        'SELECT id, received_at AS "receivedAt" FROM deliveries WHERE id > $1 ORDER BY id LIMIT $2',
        [afterId, limit],
      ),
    // Deleting whole rows lets autovacuum give the space (TOAST included) to new rows.
    pruneRawJwts: async (afterId, throughId) =>
      count('DELETE FROM delivery_jwts WHERE delivery_id > $1 AND delivery_id <= $2', [afterId, throughId]),
    async readState(name) {
      const [row] = await rows<{ value: string }>('SELECT value FROM registry_state WHERE name = $1', [name]);
      return row?.value ?? null;
    },
    async writeState(name, value, now, options) {
      await run(
        options?.onlyIfAbsent
          ? 'INSERT INTO registry_state (name, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING'
          : 'INSERT INTO registry_state (name, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
        [name, value, now],
      );
    },

    async insertSession(session: DashboardSessionRecord) {
      await run('INSERT INTO dashboard_sessions (id_hash, api_key_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [
        session.idHash,
        session.apiKeyId,
        session.createdAt,
        session.expiresAt,
      ]);
    },
    async deleteSessions(filter: DashboardSessionFilter) {
      if ('idHash' in filter) return count('DELETE FROM dashboard_sessions WHERE id_hash = $1', [filter.idHash]);
      if ('apiKeyId' in filter) return count('DELETE FROM dashboard_sessions WHERE api_key_id = $1', [filter.apiKeyId]);
      if ('all' in filter) return count('DELETE FROM dashboard_sessions', []);
      return count('DELETE FROM dashboard_sessions WHERE api_key_id <> ALL($1::text[])', [[...filter.exceptApiKeyIds]]);
    },
    deleteExpiredSessions: async (now) => count('DELETE FROM dashboard_sessions WHERE expires_at <= $1', [now]),
  };
}
