import type Database from 'better-sqlite3';
import type { NewChange } from '../../changes/model.ts';
import type { DayContribution } from '../../installations/daily-summary.ts';
import type { SiteDescription } from '../../installations/model.ts';
import type { DerivedInstallation, EventSource, HistoryEvent } from '../../installations/state-machine.ts';
import type { OutboxJobKind } from '../../outbox/model.ts';
import type { DashboardSessionFilter, DashboardSessionRecord, NewDelivery, NewTokenHandout, WriteStatements } from '../store.ts';
import { installationFromRow, outboxJobFromRow, payloadFromText, type InstallationSqlRow, type OutboxJobSqlRow } from './rows.ts';

/** The statements, plus what the writer reports after a commit: the highest change position appended since the last look. */
export type SqliteWriteStatements = WriteStatements & {
  /** The highest position insertChange handed out since the last call (0: none), and forgets it. */
  takeAppendedPosition(): number;
};

/**
 * WriteStatements for SQLite, on the writer's connection: every statement prepared once (SQL
 * built per call cost more than SQLite's own work on the delivery path). Column names mirror
 * src/db/sqlite/schema; the integration tests catch drift. Synchronous: the writer thread runs
 * the transaction scripts with nothing else to do meanwhile.
 */
export function createSqliteWriteStatements(sqlite: Database.Database): SqliteWriteStatements {
  // The raw JWT goes to delivery_jwts (see its schema: pruning there gives pages back); the
  // delivery row's own jwt column is '' for every delivery stored since that table exists.
  const insertDelivery = sqlite.prepare<[string, string, string, number, number, string, string, string], { id: number }>(
    `INSERT INTO deliveries (jwt_sha256, jwt, event_type, instance_id, issued_at, received_at, outcome, payload, source)
     VALUES (?, '', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (jwt_sha256) DO NOTHING RETURNING id`,
  );
  const insertDeliveryJwt = sqlite.prepare<[number, string]>('INSERT INTO delivery_jwts (delivery_id, jwt) VALUES (?, ?)');
  const deliveryInstance = sqlite.prepare<[number], string>('SELECT instance_id FROM deliveries WHERE id = ?').pluck();
  const history = sqlite.prepare<
    [string],
    { id: number; event_type: string; issued_at: number; payload: string | null; jwt_sha256: string; source: EventSource }
  >('SELECT id, event_type, issued_at, payload, jwt_sha256, source FROM deliveries WHERE instance_id = ?');
  const installation = sqlite.prepare<[string], InstallationSqlRow>('SELECT * FROM installations WHERE instance_id = ?');
  const upsertInstallation = sqlite.prepare(`
    INSERT INTO installations (instance_id, app_id, status, installed_at, installed_at_inferred, removed_at, origin_instance_id,
      last_event_at, first_seen_at, updated_at, plan_vendor_product_id, plan_cycle, plan_expires_on, plan_auto_renewing,
      plan_changed_at, site_id, account_id)
    VALUES (@instanceId, @appId, @status, @installedAt, @installedAtInferred, @removedAt, @originInstanceId,
      @lastEventAt, @now, @now, @planVendorProductId, @planCycle, @planExpiresOn, @planAutoRenewing,
      @planChangedAt, @siteId, @accountId)
    ON CONFLICT (instance_id) DO UPDATE SET
      -- Fields other sources also fill (Get App Instance): a null from the fold means "not in the events".
      app_id = coalesce(excluded.app_id, app_id),
      site_id = coalesce(excluded.site_id, site_id),
      account_id = coalesce(excluded.account_id, account_id),
      status = excluded.status,
      -- configured_at belongs to one installation: a reinstall needs configuring again.
      configured_at = CASE WHEN installed_at = excluded.installed_at THEN configured_at END,
      installed_at = excluded.installed_at,
      installed_at_inferred = excluded.installed_at_inferred,
      removed_at = excluded.removed_at,
      origin_instance_id = excluded.origin_instance_id,
      last_event_at = excluded.last_event_at,
      updated_at = excluded.updated_at,
      plan_vendor_product_id = excluded.plan_vendor_product_id,
      plan_cycle = excluded.plan_cycle,
      plan_expires_on = excluded.plan_expires_on,
      plan_auto_renewing = excluded.plan_auto_renewing,
      plan_changed_at = excluded.plan_changed_at`);
  const writeSite = sqlite.prepare<[string | null, string | null, string | null, string | null, number | null, number, string]>(
    `UPDATE installations SET site_id = coalesce(?, site_id), site_name = ?, site_url = ?, app_version = ?, is_free = ?, site_synced_at = ?
     WHERE instance_id = ?`,
  );
  const writeConfigured = sqlite.prepare<[number, string, number]>(
    'UPDATE installations SET configured_at = ? WHERE instance_id = ? AND installed_at = ? AND configured_at IS NULL',
  );
  const insertChange = sqlite.prepare<[string, string, string, number, number, string], { position: number }>(
    `INSERT INTO changes (id, type, instance_id, occurred_at, recorded_at, installation) VALUES (?, ?, ?, ?, ?, ?) RETURNING position`,
  );
  const addDay = sqlite.prepare<[number, number, number, number, number, number]>(
    `INSERT INTO daily_summary (day, installs, removals, churn_1d, churn_7d, churn_30d) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (day) DO UPDATE SET installs = installs + excluded.installs, removals = removals + excluded.removals,
       churn_1d = churn_1d + excluded.churn_1d, churn_7d = churn_7d + excluded.churn_7d, churn_30d = churn_30d + excluded.churn_30d`,
  );

  const enqueueJob = sqlite.prepare<{ kind: OutboxJobKind; instanceId: string; startedAt: number; now: number }>(`
    INSERT INTO outbox_jobs (kind, instance_id, installation_started_at, status, attempts, run_after, created_at, updated_at)
    VALUES (@kind, @instanceId, @startedAt, 'pending', 0, @now, @now, @now)
    ON CONFLICT (instance_id, kind, installation_started_at) WHERE change_position IS NULL DO UPDATE SET
      status = 'pending', attempts = 0, run_after = excluded.run_after, lease_until = NULL, last_error = NULL, updated_at = excluded.updated_at
    -- Out of order, an installation can look removed for a while (a plan event at the same second
    -- as its AppInstalled arrived first, then a removal): the job that removal cancelled is due
    -- again now. Pending, running, done and dead jobs stay as they are.
    WHERE outbox_jobs.status = 'cancelled'`);
  // Wix jobs only: a removal is itself a change, and its push (and the earlier ones) must still go out.
  const cancelPending = sqlite.prepare<[number, string, string]>(
    `UPDATE outbox_jobs SET status = 'cancelled', updated_at = ?, last_error = ? WHERE instance_id = ? AND status = 'pending' AND change_position IS NULL`,
  );
  const cancelPendingExcept = sqlite.prepare<[number, string, string, number]>(
    `UPDATE outbox_jobs SET status = 'cancelled', updated_at = ?, last_error = ?
     WHERE instance_id = ? AND status = 'pending' AND installation_started_at != ? AND change_position IS NULL`,
  );
  const claimDue = sqlite.prepare<[number, number, number, number, number], OutboxJobSqlRow>(`
    UPDATE outbox_jobs SET status = 'running', lease_until = ?, attempts = attempts + 1, updated_at = ?
    WHERE id IN (
      SELECT id FROM outbox_jobs
      WHERE ((status = 'pending' AND run_after <= ?) OR (status = 'running' AND lease_until < ?)) AND change_position IS NULL
      ORDER BY run_after LIMIT ?)
    RETURNING *`);
  const enqueuePush = sqlite.prepare<{ changePosition: number; instanceId: string; startedAt: number; now: number }>(`
    INSERT INTO outbox_jobs (kind, instance_id, installation_started_at, status, attempts, run_after, created_at, updated_at, endpoint, change_position)
    SELECT 'push_change', @instanceId, @startedAt, 'pending', 0, @now, @now, @now, url, @changePosition FROM push_endpoints WHERE active = 1`);
  // Oldest change first; a job waits while an earlier change of its instance is not yet delivered
  // to this endpoint (outbox_jobs_push_once answers that with one range per candidate).
  const claimDuePush = sqlite.prepare<{ endpoint: string; now: number; limit: number; leaseUntil: number }, OutboxJobSqlRow>(`
    UPDATE outbox_jobs SET status = 'running', lease_until = @leaseUntil, attempts = attempts + 1, updated_at = @now
    WHERE id IN (
      SELECT j.id FROM outbox_jobs j
      WHERE j.endpoint = @endpoint AND j.change_position IS NOT NULL
        AND ((j.status = 'pending' AND j.run_after <= @now) OR (j.status = 'running' AND j.lease_until < @now))
        AND NOT EXISTS (
          SELECT 1 FROM outbox_jobs p
          WHERE p.endpoint = j.endpoint AND p.instance_id = j.instance_id AND p.change_position < j.change_position
            AND p.status IN ('pending', 'running', 'dead'))
      ORDER BY j.change_position LIMIT @limit)
    RETURNING *`);
  const activatePushEndpoint = sqlite.prepare<[string, number]>(
    `INSERT INTO push_endpoints (url, active, added_at) VALUES (?, 1, ?) ON CONFLICT (url) DO UPDATE SET active = 1`,
  );
  const listPushEndpoints = sqlite.prepare<[], { url: string; active: number }>('SELECT url, active FROM push_endpoints');
  const deactivatePushEndpoint = sqlite.prepare<[string]>('UPDATE push_endpoints SET active = 0 WHERE url = ?');
  const cancelPushJobs = sqlite.prepare<[number, string]>(
    `UPDATE outbox_jobs SET status = 'cancelled', updated_at = ?, last_error = 'endpoint no longer in REGISTRY_EVENT_ENDPOINTS', lease_until = NULL
     WHERE endpoint = ? AND change_position IS NOT NULL AND status = 'pending'`,
  );
  const pushSucceeded = sqlite.prepare<[number, string]>(
    `UPDATE push_endpoints SET last_success_at = ?, consecutive_failures = 0, delivered = delivered + 1 WHERE url = ?`,
  );
  const pushFailed = sqlite.prepare<[number, string, string]>(
    `UPDATE push_endpoints SET last_failure_at = ?, last_error = ?, consecutive_failures = consecutive_failures + 1, failed_attempts = failed_attempts + 1
     WHERE url = ?`,
  );
  let appendedPosition = 0;
  const finishJob = sqlite.prepare<[number, number, number]>(
    `UPDATE outbox_jobs SET status = 'done', completed_at = ?, updated_at = ?, lease_until = NULL, last_error = NULL WHERE id = ?`,
  );
  const retryJob = sqlite.prepare<[number, string, number, number]>(
    `UPDATE outbox_jobs SET status = 'pending', run_after = ?, last_error = ?, lease_until = NULL, updated_at = ? WHERE id = ?`,
  );
  const killJob = sqlite.prepare<[string, number, number]>(
    `UPDATE outbox_jobs SET status = 'dead', last_error = ?, lease_until = NULL, updated_at = ? WHERE id = ?`,
  );
  const releaseJob = sqlite.prepare<[number, number]>(
    `UPDATE outbox_jobs SET status = 'pending', lease_until = NULL, attempts = max(attempts - 1, 0), updated_at = ? WHERE id = ? AND status = 'running'`,
  );
  const recoverAbandoned = sqlite.prepare<[number, number]>(
    `UPDATE outbox_jobs SET status = 'pending', lease_until = NULL, run_after = ?, updated_at = ? WHERE status = 'running'`,
  );
  const requeueDead = sqlite.prepare<[number, number]>(
    `UPDATE outbox_jobs SET status = 'pending', attempts = 0, run_after = ?, lease_until = NULL, updated_at = ? WHERE status = 'dead'`,
  );
  const requeueOne = sqlite.prepare<[number, number, number]>(
    `UPDATE outbox_jobs SET status = 'pending', attempts = 0, run_after = ?, lease_until = NULL, updated_at = ?
     WHERE id = ? AND status IN ('dead', 'cancelled', 'pending')`,
  );
  const markChecked = sqlite.prepare<[number, string]>('UPDATE installations SET checked_at = ? WHERE instance_id = ?');
  // The lease is taken when the walk is due and nobody else holds a live lease; RETURNING gives
  // nothing when the WHERE of the upsert refused it.
  const claimWalk = sqlite.prepare<{ name: string; owner: string; now: number; leaseUntil: number }, { cursor: string | null }>(`
    INSERT INTO reconcile_schedule (name, lease_owner, lease_until, next_run_at, updated_at) VALUES (@name, @owner, @leaseUntil, 0, @now)
    ON CONFLICT (name) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until, updated_at = excluded.updated_at
    WHERE reconcile_schedule.next_run_at <= @now
      AND (reconcile_schedule.lease_owner IS NULL OR reconcile_schedule.lease_until < @now OR reconcile_schedule.lease_owner = @owner)
    RETURNING cursor`);
  const releaseWalk = sqlite.prepare<[string | null, number, string | null, number, string, string]>(
    `UPDATE reconcile_schedule SET cursor = ?, next_run_at = ?, last_stop = ?, lease_owner = NULL, lease_until = 0, updated_at = ?
     WHERE name = ? AND lease_owner = ?`,
  );
  const insertHandout = sqlite.prepare<[string, string, number, string, number | null, string | null]>(
    `INSERT INTO token_handouts (api_key_id, instance_id, requested_at, outcome, token_expires_at, request_id) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const deliveryReceiptsAfter = sqlite.prepare<[number, number], { id: number; receivedAt: number }>(
    'SELECT id, received_at AS receivedAt FROM deliveries WHERE id > ? ORDER BY id LIMIT ?',
  );
  // Whole pages of delivery_jwts go back to the freelist; older deliveries kept theirs in the row.
  const pruneJwtRows = sqlite.prepare<[number, number]>('DELETE FROM delivery_jwts WHERE delivery_id > ? AND delivery_id <= ?');
  const pruneLegacyJwts = sqlite.prepare<[number, number]>(`UPDATE deliveries SET jwt = '' WHERE id > ? AND id <= ? AND jwt != ''`);
  const readState = sqlite.prepare<[string], string>('SELECT value FROM registry_state WHERE name = ?').pluck();
  const upsertState = sqlite.prepare<[string, string, number]>(
    'INSERT INTO registry_state (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
  );
  const insertStateIfAbsent = sqlite.prepare<[string, string, number]>(
    'INSERT INTO registry_state (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING',
  );
  const insertSession = sqlite.prepare<[string, string, number, number]>(
    'INSERT INTO dashboard_sessions (id_hash, api_key_id, created_at, expires_at) VALUES (?, ?, ?, ?)',
  );
  const deleteSessionById = sqlite.prepare<[string]>('DELETE FROM dashboard_sessions WHERE id_hash = ?');
  const deleteSessionsOfKey = sqlite.prepare<[string]>('DELETE FROM dashboard_sessions WHERE api_key_id = ?');
  const deleteAllSessions = sqlite.prepare('DELETE FROM dashboard_sessions');
  const deleteSessionsExcept = sqlite.prepare<[string]>(
    'DELETE FROM dashboard_sessions WHERE api_key_id NOT IN (SELECT value FROM json_each(?))',
  );
  const deleteExpiredSessions = sqlite.prepare<[number]>('DELETE FROM dashboard_sessions WHERE expires_at <= ?');

  return {
    lockInstance() {
      // One writer thread owns the only write connection: instances need no lock of their own.
    },
    insertDelivery(d: NewDelivery) {
      const row = insertDelivery.get(
        d.sha256,
        d.eventType,
        d.instanceId,
        d.issuedAt,
        d.receivedAt,
        d.outcome,
        JSON.stringify(d.payload),
        d.source ?? 'wix',
      );
      if (!row) return null;
      // An event the registry records itself (no JWT: Wix sent nothing) has no row there.
      if (d.jwt !== '') insertDeliveryJwt.run(row.id, d.jwt);
      return row.id;
    },
    deliveryInstance: (deliveryId) => deliveryInstance.get(deliveryId) ?? null,
    historyOf(instanceId): HistoryEvent[] {
      return history.all(instanceId).map((r) => {
        const payload = payloadFromText(r.payload);
        return {
          eventType: r.event_type,
          issuedAt: r.issued_at,
          data: payload.data,
          accountInfo: payload.accountInfo,
          tieBreaker: r.jwt_sha256,
          source: r.source,
          arrival: r.id,
        };
      });
    },
    installation(instanceId) {
      const row = installation.get(instanceId);
      return row ? installationFromRow(row) : undefined;
    },
    writeDerivedState(instanceId: string, a: DerivedInstallation, now: number) {
      upsertInstallation.run({
        ...a,
        instanceId,
        now,
        installedAtInferred: a.installedAtInferred ? 1 : 0,
        planAutoRenewing: a.planAutoRenewing === null ? null : a.planAutoRenewing ? 1 : 0,
      });
    },
    writeSite(instanceId: string, site: SiteDescription, now: number) {
      writeSite.run(
        site.siteId,
        site.siteName,
        site.siteUrl,
        site.appVersion,
        site.isFree === null ? null : site.isFree ? 1 : 0,
        now,
        instanceId,
      );
    },
    writeConfigured: (instanceId, startedAt, now) => writeConfigured.run(now, instanceId, startedAt).changes > 0,
    insertChange(change: NewChange) {
      const { position } = insertChange.get(
        change.id,
        change.type,
        change.instanceId,
        change.occurredAt,
        change.recordedAt,
        JSON.stringify(change.installation),
      )!;
      appendedPosition = Math.max(appendedPosition, position);
      return position;
    },
    takeAppendedPosition() {
      const position = appendedPosition;
      appendedPosition = 0;
      return position;
    },
    addDailyContributions(delta: Map<number, DayContribution>) {
      for (const [day, d] of delta) addDay.run(day, d.installs, d.removals, d.churn1d, d.churn7d, d.churn30d);
    },
    enqueueJob: (kind, instanceId, startedAt, now) => void enqueueJob.run({ kind, instanceId, startedAt, now }),
    cancelPendingJobs(instanceId, reason, now, exceptStartedAt) {
      if (exceptStartedAt === undefined) cancelPending.run(now, reason, instanceId);
      else cancelPendingExcept.run(now, reason, instanceId, exceptStartedAt);
    },
    claimDueJobs: (now, limit, leaseUntil) => claimDue.all(leaseUntil, now, now, now, limit).map(outboxJobFromRow),
    enqueuePushJobs: (changePosition, instanceId, startedAt, now) =>
      enqueuePush.run({ changePosition, instanceId, startedAt, now }).changes,
    claimDuePushJobs: (endpoint, now, limit, leaseUntil) => claimDuePush.all({ endpoint, now, limit, leaseUntil }).map(outboxJobFromRow),
    configurePushEndpoints(urls, now) {
      const wanted = new Set(urls);
      for (const url of wanted) activatePushEndpoint.run(url, now);
      let cancelled = 0;
      for (const row of listPushEndpoints.all()) {
        if (wanted.has(row.url)) continue;
        if (row.active) deactivatePushEndpoint.run(row.url);
        cancelled += cancelPushJobs.run(now, row.url).changes;
      }
      return cancelled;
    },
    recordPushAttempt(endpoint, outcome, now) {
      if (outcome.ok) pushSucceeded.run(now, endpoint);
      else pushFailed.run(now, outcome.error, endpoint);
    },
    finishJob: (jobId, now) => void finishJob.run(now, now, jobId),
    retryJobLater: (jobId, runAfter, error, now) => void retryJob.run(runAfter, error, now, jobId),
    killJob: (jobId, error, now) => void killJob.run(error, now, jobId),
    releaseJobs(jobIds, now) {
      for (const id of jobIds) releaseJob.run(now, id);
    },
    recoverAbandonedJobs: (now) => recoverAbandoned.run(now, now).changes,
    requeueJobs(now, jobIds) {
      if (!jobIds || jobIds.length === 0) return requeueDead.run(now, now).changes;
      let changed = 0;
      for (const id of jobIds) changed += requeueOne.run(now, now, id).changes;
      return changed;
    },
    insertTokenHandout(row: NewTokenHandout) {
      insertHandout.run(row.apiKeyId, row.instanceId, row.requestedAt, row.outcome, row.tokenExpiresAt ?? null, row.requestId ?? null);
    },
    markChecked: (instanceId, at) => void markChecked.run(at, instanceId),
    claimReconcileWalk(name, owner, now, leaseUntil) {
      const row = claimWalk.get({ name, owner, now, leaseUntil });
      return row ? { cursor: row.cursor } : null;
    },
    releaseReconcileWalk: (name, owner, update, now) =>
      releaseWalk.run(update.cursor, update.nextRunAt, update.lastStop, now, name, owner).changes > 0,
    deliveryReceiptsAfter: (afterId, limit) => deliveryReceiptsAfter.all(afterId, limit),
    pruneRawJwts: (afterId, throughId) => pruneJwtRows.run(afterId, throughId).changes + pruneLegacyJwts.run(afterId, throughId).changes,
    readState: (name) => readState.get(name) ?? null,
    writeState(name, value, now, options) {
      (options?.onlyIfAbsent ? insertStateIfAbsent : upsertState).run(name, value, now);
    },
    insertSession(session: DashboardSessionRecord) {
      insertSession.run(session.idHash, session.apiKeyId, session.createdAt, session.expiresAt);
    },
    deleteSessions(filter: DashboardSessionFilter) {
      if ('idHash' in filter) return deleteSessionById.run(filter.idHash).changes;
      if ('apiKeyId' in filter) return deleteSessionsOfKey.run(filter.apiKeyId).changes;
      if ('all' in filter) return deleteAllSessions.run().changes;
      return deleteSessionsExcept.run(JSON.stringify(filter.exceptApiKeyIds)).changes;
    },
    deleteExpiredSessions: (now) => deleteExpiredSessions.run(now).changes,
  };
}
