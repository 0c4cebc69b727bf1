import type { DeliverySummary, EventPayload, HistoryRecord, InstallationRecord } from '../../installations/model.ts';
import type { ChangeRecord } from '../../changes/model.ts';
import type { OutboxJob } from '../../outbox/model.ts';
import type { PushEndpointHealth } from '../store.ts';

/** Rows as SQLite returns them (snake_case, booleans as 0/1), and their domain shapes. */

export interface InstallationSqlRow {
  instance_id: string;
  app_id: string | null;
  status: 'active' | 'removed';
  installed_at: number;
  installed_at_inferred: number;
  removed_at: number | null;
  origin_instance_id: string | null;
  last_event_at: number;
  first_seen_at: number;
  updated_at: number;
  configured_at: number | null;
  plan_vendor_product_id: string | null;
  plan_cycle: string | null;
  plan_expires_on: string | null;
  plan_auto_renewing: number | null;
  plan_changed_at: number | null;
  site_id: string | null;
  account_id: string | null;
  site_name: string | null;
  site_url: string | null;
  app_version: string | null;
  is_free: number | null;
  site_synced_at: number | null;
  checked_at: number | null;
}

const bool = (value: number | null): boolean | null => (value === null ? null : value !== 0);

export function installationFromRow(r: InstallationSqlRow): InstallationRecord {
  return {
    instanceId: r.instance_id,
    appId: r.app_id,
    status: r.status,
    installedAt: r.installed_at,
    installedAtInferred: r.installed_at_inferred !== 0,
    removedAt: r.removed_at,
    originInstanceId: r.origin_instance_id,
    lastEventAt: r.last_event_at,
    firstSeenAt: r.first_seen_at,
    updatedAt: r.updated_at,
    configuredAt: r.configured_at,
    planVendorProductId: r.plan_vendor_product_id,
    planCycle: r.plan_cycle,
    planExpiresOn: r.plan_expires_on,
    planAutoRenewing: bool(r.plan_auto_renewing),
    planChangedAt: r.plan_changed_at,
    siteId: r.site_id,
    accountId: r.account_id,
    siteName: r.site_name,
    siteUrl: r.site_url,
    appVersion: r.app_version,
    isFree: bool(r.is_free),
    siteSyncedAt: r.site_synced_at,
    checkedAt: r.checked_at,
  };
}

export interface OutboxJobSqlRow {
  id: number;
  kind: OutboxJob['kind'];
  instance_id: string;
  installation_started_at: number;
  status: OutboxJob['status'];
  attempts: number;
  run_after: number;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
  endpoint: string | null;
  change_position: number | null;
}

export function outboxJobFromRow(r: OutboxJobSqlRow): OutboxJob {
  return {
    id: r.id,
    kind: r.kind,
    instanceId: r.instance_id,
    installationStartedAt: r.installation_started_at,
    status: r.status,
    attempts: r.attempts,
    runAfter: r.run_after,
    leaseUntil: r.lease_until,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    completedAt: r.completed_at,
    endpoint: r.endpoint,
    changePosition: r.change_position,
  };
}

/** A stored payload; rows from before the history moved into deliveries may have none. */
export function payloadFromText(text: string | null): EventPayload {
  return text ? (JSON.parse(text) as EventPayload) : { data: {} };
}

export interface HistorySqlRow {
  event_type: string;
  issued_at: number;
  received_at: number;
  outcome: HistoryRecord['outcome'];
  payload: string | null;
}

export const historyFromRow = (r: HistorySqlRow): HistoryRecord => ({
  eventType: r.event_type,
  issuedAt: r.issued_at,
  receivedAt: r.received_at,
  outcome: r.outcome,
  payload: payloadFromText(r.payload),
});

export interface DeliverySqlRow {
  id: number;
  event_type: string;
  instance_id: string;
  issued_at: number;
  received_at: number;
  outcome: DeliverySummary['outcome'];
  jwt_sha256: string;
  source: DeliverySummary['source'];
  /** 1 when the raw JWT was pruned (jwt = ''). */
  jwt_pruned: number;
}

export const deliveryFromRow = (r: DeliverySqlRow): DeliverySummary => ({
  id: r.id,
  eventType: r.event_type,
  instanceId: r.instance_id,
  issuedAt: r.issued_at,
  receivedAt: r.received_at,
  outcome: r.outcome,
  sha256: r.jwt_sha256,
  source: r.source,
  jwtPruned: r.jwt_pruned === 1,
});

export interface ChangeSqlRow {
  position: number;
  id: string;
  type: ChangeRecord['type'];
  instance_id: string;
  occurred_at: number;
  recorded_at: number;
  installation: string;
}

export const changeFromRow = (r: ChangeSqlRow): ChangeRecord => ({
  position: r.position,
  id: r.id,
  type: r.type,
  instanceId: r.instance_id,
  occurredAt: r.occurred_at,
  recordedAt: r.recorded_at,
  installation: JSON.parse(r.installation) as ChangeRecord['installation'],
});

export interface PushEndpointSqlRow {
  url: string;
  active: number;
  last_success_at: number | null;
  last_failure_at: number | null;
  last_error: string | null;
  consecutive_failures: number;
  failed_attempts: number;
  delivered: number;
}

export const pushEndpointFromRow = (
  r: PushEndpointSqlRow,
  open: { pending: number; running: number; dead: number; oldestUndeliveredAt: number | null },
): PushEndpointHealth => ({
  url: r.url,
  active: r.active !== 0,
  lastSuccessAt: r.last_success_at,
  lastFailureAt: r.last_failure_at,
  lastError: r.last_error,
  consecutiveFailures: r.consecutive_failures,
  failedAttempts: r.failed_attempts,
  delivered: r.delivered,
  ...open,
});
