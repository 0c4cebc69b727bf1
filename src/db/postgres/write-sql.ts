/**
 * The longer statements of src/db/postgres/write-statements.ts, apart so that file reads as the
 * list of what each statement does. Column names mirror src/db/postgres/schema.
 */

/** Output column lists in the domain's names, so rows are the domain's objects without mapping. */
export const INSTALLATION_COLUMNS = `instance_id AS "instanceId", app_id AS "appId", status, installed_at AS "installedAt",
  installed_at_inferred AS "installedAtInferred", removed_at AS "removedAt", origin_instance_id AS "originInstanceId",
  last_event_at AS "lastEventAt", first_seen_at AS "firstSeenAt", updated_at AS "updatedAt", configured_at AS "configuredAt",
  plan_vendor_product_id AS "planVendorProductId", plan_cycle AS "planCycle", plan_expires_on AS "planExpiresOn",
  plan_auto_renewing AS "planAutoRenewing", plan_changed_at AS "planChangedAt", site_id AS "siteId", account_id AS "accountId",
  site_name AS "siteName", site_url AS "siteUrl", app_version AS "appVersion", is_free AS "isFree", site_synced_at AS "siteSyncedAt",
  checked_at AS "checkedAt"`;
export const JOB_COLUMNS = `id, kind, instance_id AS "instanceId", installation_started_at AS "installationStartedAt", status, attempts,
  run_after AS "runAfter", lease_until AS "leaseUntil", last_error AS "lastError", created_at AS "createdAt", updated_at AS "updatedAt",
  completed_at AS "completedAt", endpoint, change_position AS "changePosition"`;

/** The lock key of one instance, and of one push endpoint's claims: 64-bit hashes of a namespaced text. */
export const INSTANCE_LOCK = `pg_advisory_xact_lock(hashtextextended('wix-registry:instance:' || $1::text, 0))`;
export const PUSH_ENDPOINT_LOCK = `pg_advisory_xact_lock(hashtextextended('wix-registry:push:' || $1::text, 0))`;

export const UPSERT_INSTALLATION = `
  INSERT INTO installations (instance_id, app_id, status, installed_at, installed_at_inferred, removed_at, origin_instance_id,
    last_event_at, first_seen_at, updated_at, plan_vendor_product_id, plan_cycle, plan_expires_on, plan_auto_renewing,
    plan_changed_at, site_id, account_id)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13, $14, $15, $16)
  ON CONFLICT (instance_id) DO UPDATE SET
    -- Fields other sources also fill (Get App Instance): a null from the fold means "not in the events".
    app_id = coalesce(excluded.app_id, installations.app_id),
    site_id = coalesce(excluded.site_id, installations.site_id),
    account_id = coalesce(excluded.account_id, installations.account_id),
    status = excluded.status,
    -- configured_at belongs to one installation: a reinstall needs configuring again.
    configured_at = CASE WHEN installations.installed_at = excluded.installed_at THEN installations.configured_at END,
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
    plan_changed_at = excluded.plan_changed_at
  RETURNING ${INSTALLATION_COLUMNS}`;

export const ENQUEUE_JOB = `
  INSERT INTO outbox_jobs (kind, instance_id, installation_started_at, status, attempts, run_after, created_at, updated_at)
  VALUES ($1, $2, $3, 'pending', 0, $4, $4, $4)
  ON CONFLICT (instance_id, kind, installation_started_at) WHERE change_position IS NULL DO UPDATE SET
    status = 'pending', attempts = 0, run_after = excluded.run_after, lease_until = NULL, last_error = NULL, updated_at = excluded.updated_at
  -- As on SQLite: only a cancelled job is armed again; pending, running, done and dead ones stay as they are.
  WHERE outbox_jobs.status = 'cancelled'`;

// SKIP LOCKED: a job another replica is claiming or finishing right now is not waited for. A row
// claimed and committed meanwhile is re-checked against the WHERE (READ COMMITTED) and left out.
export const CLAIM_DUE = `
  UPDATE outbox_jobs SET status = 'running', lease_until = $1, attempts = attempts + 1, updated_at = $2
  WHERE id IN (
    SELECT id FROM outbox_jobs
    WHERE ((status = 'pending' AND run_after <= $2) OR (status = 'running' AND lease_until < $2)) AND change_position IS NULL
    ORDER BY run_after LIMIT $3
    FOR UPDATE SKIP LOCKED)
  RETURNING ${JOB_COLUMNS}`;

export const CLAIM_DUE_PUSH = `
  UPDATE outbox_jobs SET status = 'running', lease_until = $4, attempts = attempts + 1, updated_at = $2
  WHERE id IN (
    SELECT j.id FROM outbox_jobs j
    WHERE j.endpoint = $1 AND j.change_position IS NOT NULL
      AND ((j.status = 'pending' AND j.run_after <= $2) OR (j.status = 'running' AND j.lease_until < $2))
      AND NOT EXISTS (
        SELECT 1 FROM outbox_jobs p
        WHERE p.endpoint = j.endpoint AND p.instance_id = j.instance_id AND p.change_position < j.change_position
          AND p.status IN ('pending', 'running', 'dead'))
    ORDER BY j.change_position LIMIT $3
    FOR UPDATE OF j SKIP LOCKED)
  RETURNING ${JOB_COLUMNS}`;

// The lease is taken when the walk is due and nobody else holds a live one; the upsert locks the
// row, so two replicas asking at once are answered one after the other.
export const CLAIM_WALK = `
  INSERT INTO reconcile_schedule (name, lease_owner, lease_until, next_run_at, updated_at) VALUES ($1, $2, $4, 0, $3)
  ON CONFLICT (name) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until, updated_at = excluded.updated_at
  WHERE reconcile_schedule.next_run_at <= $3
    AND (reconcile_schedule.lease_owner IS NULL OR reconcile_schedule.lease_until < $3 OR reconcile_schedule.lease_owner = $2)
  RETURNING cursor`;
