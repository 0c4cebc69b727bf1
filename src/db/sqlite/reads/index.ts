import type Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { formatExportPage } from '../../../installations/export-format.ts';
import { toInstallation } from '../../../installations/serialize.ts';
import type { InstallationStatus } from '../../../installations/model.ts';
import type { InstallationFilters, InstallationOrdering, Position } from '../../../installations/query-schemas.ts';
import { OUTBOX_JOB_KINDS, OUTBOX_JOB_STATUSES, type OutboxJobKind, type OutboxJobStatus } from '../../../outbox/model.ts';
import type { ChangeRecord } from '../../../changes/model.ts';
import type {
  ChangeFilter,
  ChangeRows,
  DailySummaryRows,
  DashboardSessionRecord,
  DeliveryFilter,
  ExportFormatName,
  InstallationListRequest,
  OutboxJobFilter,
  PushEndpointHealth,
  StoredJwt,
  TokenHandoutListRequest,
  TokenHandoutRecord,
  TokenHandoutRowPage,
} from '../../store.ts';
import {
  changeFromRow,
  pushEndpointFromRow,
  type ChangeSqlRow,
  type PushEndpointSqlRow,
  deliveryFromRow,
  historyFromRow,
  installationFromRow,
  outboxJobFromRow,
  type DeliverySqlRow,
  type HistorySqlRow,
  type InstallationSqlRow,
  type OutboxJobSqlRow,
} from '../rows.ts';
import * as schema from '../schema/index.ts';
import { createSqliteInstallationPages } from './installation-pages.ts';
import { summaryDays, type SummaryDayRow } from '../../summary-days.ts';

/** Rows per query when an export walks a whole result. */
export const EXPORT_PAGE_ROWS = 1_000;

/**
 * Every read the registry makes, on one read-only connection: what a reader thread runs (or the
 * caller's own thread, for the CLI). Statements are prepared on first use, so a reader can start
 * before the writer has created the schema.
 */
export interface SqliteReadOptions {
  /** Overrides the planner's walk-or-sort bound (tests force each access path with it). */
  maxRowsToSort?: number | undefined;
  /** Overrides the rows a walk looks at per query (tests make short pages with it). */
  walkBudgetRows?: number | undefined;
  /** Rows per export chunk (default EXPORT_PAGE_ROWS). */
  exportPageRows?: number | undefined;
}

export function createSqliteReads(sqlite: Database.Database, options: SqliteReadOptions = {}) {
  const pages = createSqliteInstallationPages(drizzle(sqlite, { schema }), options);
  const exportPageRows = options.exportPageRows ?? EXPORT_PAGE_ROWS;
  const statements = new Map<string, Database.Statement>();
  const prepared = (text: string) => {
    let statement = statements.get(text);
    if (!statement) statements.set(text, (statement = sqlite.prepare(text)));
    return statement;
  };
  const day = (ms: number) => Math.floor(ms / 86_400_000);

  return {
    installationPage: (request: InstallationListRequest) => pages.page(request),

    /** A page with its items as the API's JSON, built here so the event loop only passes a string along. */
    installationPageJson(request: InstallationListRequest) {
      const page = pages.page(request);
      return { itemsJson: JSON.stringify(page.rows.map(toInstallation)), next: page.next };
    },

    installation(instanceId: string) {
      const row = prepared('SELECT * FROM installations WHERE instance_id = ?').get(instanceId) as InstallationSqlRow | undefined;
      return row ? installationFromRow(row) : null;
    },

    /** Every delivery stored for the instance, oldest first by iat. */
    history(instanceId: string) {
      const rows = prepared(
        'SELECT event_type, issued_at, received_at, outcome, payload FROM deliveries WHERE instance_id = ? ORDER BY issued_at, id',
      ).all(instanceId) as HistorySqlRow[];
      return rows.map(historyFromRow);
    },

    status(instanceId: string): InstallationStatus | undefined {
      return (
        (prepared('SELECT status FROM installations WHERE instance_id = ?').pluck().get(instanceId) as InstallationStatus | undefined) ??
        undefined
      );
    },

    /** From the trigger-kept counters: no scan of a million rows. */
    installationCounts(): Record<InstallationStatus, number> {
      const rows = prepared(`SELECT name, value FROM registry_counters WHERE name LIKE 'installations.%'`).all() as {
        name: string;
        value: number;
      }[];
      const counts = { active: 0, removed: 0 };
      for (const row of rows) counts[row.name.slice('installations.'.length) as InstallationStatus] = row.value;
      return counts;
    },

    newestActive(): string | undefined {
      return (
        (prepared(`SELECT instance_id FROM installations WHERE status = 'active' ORDER BY installed_at DESC LIMIT 1`).pluck().get() as
          string | undefined) ?? undefined
      );
    },

    dailySummary(window: { from: number; to: number }): DailySummaryRows {
      const from = day(window.from);
      const to = day(window.to);
      const activeBefore =
        (prepared('SELECT coalesce(sum(active_delta), 0) FROM daily_summary WHERE day < ?').pluck().get(from) as number) ?? 0;
      const rows = prepared(
        `SELECT day, installs, removals, active_delta AS activeDelta, churn_1d AS churn1d, churn_7d AS churn7d, churn_30d AS churn30d
         FROM daily_summary WHERE day >= ? AND day < ? ORDER BY day`,
      ).all(from, to) as SummaryDayRow[];
      return { activeBefore, days: summaryDays(rows, from, to) };
    },

    /**
     * One chunk of an export: up to EXPORT_PAGE_ROWS rows after `after`, formatted. The CSV
     * header travels with the first chunk. `next` null: the export is complete.
     */
    exportChunk(query: InstallationFilters & InstallationOrdering, format: ExportFormatName, after: Position | null, first: boolean) {
      const page = pages.page({ ...query, limit: exportPageRows, after });
      return { text: formatExportPage(format, page.rows, first), next: page.next };
    },

    outboxJobs(filter: OutboxJobFilter) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.status) {
        where.push('status = ?');
        params.push(filter.status);
      }
      if (filter.instanceId) {
        where.push('instance_id = ?');
        params.push(filter.instanceId);
      }
      const rows = prepared(`SELECT * FROM outbox_jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`).all(
        ...params,
        filter.limit ?? 100,
      ) as OutboxJobSqlRow[];
      return rows.map(outboxJobFromRow);
    },

    /** Jobs per state, from the trigger-kept counters (no table scan). */
    outboxCounts(): Record<OutboxJobStatus, number> {
      const rows = prepared(`SELECT name, value FROM registry_counters WHERE name LIKE 'outbox.%'`).all() as {
        name: string;
        value: number;
      }[];
      const counts = Object.fromEntries(OUTBOX_JOB_STATUSES.map((s) => [s, 0])) as Record<OutboxJobStatus, number>;
      for (const row of rows) counts[row.name.slice('outbox.'.length) as OutboxJobStatus] = row.value;
      return counts;
    },

    /** Per kind, the jobs pending, running and dead: an index range of (status, run_after), not a scan. */
    outboxOpenCountsByKind() {
      const rows = prepared(
        `SELECT kind, status, count(*) AS n FROM outbox_jobs WHERE status IN ('pending', 'running', 'dead') GROUP BY kind, status`,
      ).all() as { kind: OutboxJobKind; status: OutboxJobStatus; n: number }[];
      const found = new Map(rows.map((r) => [`${r.kind}/${r.status}`, r.n]));
      const states = ['pending', 'running', 'dead'] as const;
      return OUTBOX_JOB_KINDS.flatMap((kind) => states.map((state) => ({ kind, state, count: found.get(`${kind}/${state}`) ?? 0 })));
    },

    nextDueAt(lane: { endpoint: string | null } | null): number | null {
      const due = !lane
        ? prepared(`SELECT min(run_after) FROM outbox_jobs WHERE status = 'pending'`).pluck().get()
        : lane.endpoint === null
          ? prepared(`SELECT min(run_after) FROM outbox_jobs WHERE status = 'pending' AND endpoint IS NULL`).pluck().get()
          : prepared(`SELECT min(run_after) FROM outbox_jobs WHERE status = 'pending' AND endpoint = ?`).pluck().get(lane.endpoint);
      return (due as number | null) ?? null;
    },

    /** The feed after `after`, oldest first, and the newest position committed (read first: no row of the page is above it). */
    changesPage(after: number, limit: number): ChangeRows {
      // One read transaction: `last` and the rows come from the same snapshot.
      return sqlite.transaction(() => {
        const last = (prepared('SELECT coalesce(max(position), 0) FROM changes').pluck().get() as number) ?? 0;
        const rows = prepared('SELECT * FROM changes WHERE position > ? ORDER BY position LIMIT ?').all(after, limit) as ChangeSqlRow[];
        return { rows: rows.map(changeFromRow), last };
      })();
    },

    changesLatest(filter: ChangeFilter): ChangeRecord[] {
      const before = filter.before ?? Number.MAX_SAFE_INTEGER;
      const rows = (
        filter.instanceId
          ? prepared('SELECT * FROM changes WHERE instance_id = ? AND position < ? ORDER BY position DESC LIMIT ?').all(
              filter.instanceId,
              before,
              filter.limit,
            )
          : prepared('SELECT * FROM changes WHERE position < ? ORDER BY position DESC LIMIT ?').all(before, filter.limit)
      ) as ChangeSqlRow[];
      return rows.map(changeFromRow);
    },

    change(position: number): ChangeRecord | null {
      const row = prepared('SELECT * FROM changes WHERE position = ?').get(position) as ChangeSqlRow | undefined;
      return row ? changeFromRow(row) : null;
    },

    /** Every push endpoint with its open jobs (an index range of the open states, not a scan). */
    pushEndpoints(): PushEndpointHealth[] {
      const endpoints = prepared('SELECT * FROM push_endpoints ORDER BY active DESC, url').all() as PushEndpointSqlRow[];
      const open = prepared(
        `SELECT endpoint, status, count(*) AS n, min(created_at) AS oldest FROM outbox_jobs
         WHERE status IN ('pending', 'running', 'dead') AND endpoint IS NOT NULL GROUP BY endpoint, status`,
      ).all() as { endpoint: string; status: 'pending' | 'running' | 'dead'; n: number; oldest: number }[];
      return endpoints.map((row) => {
        const counts = { pending: 0, running: 0, dead: 0, oldestUndeliveredAt: null as number | null };
        for (const o of open) {
          if (o.endpoint !== row.url) continue;
          counts[o.status] = o.n;
          counts.oldestUndeliveredAt = Math.min(counts.oldestUndeliveredAt ?? o.oldest, o.oldest);
        }
        return pushEndpointFromRow(row, counts);
      });
    },

    deliveries(filter: DeliveryFilter) {
      // Pruned: a Wix delivery with no JWT in delivery_jwts, and none in the row either (deliveries
      // stored before that table). The registry's own events never had one: they are not "pruned".
      const columns = `id, event_type, instance_id, issued_at, received_at, outcome, jwt_sha256, source,
        source = 'wix' AND d.jwt = '' AND NOT EXISTS (SELECT 1 FROM delivery_jwts j WHERE j.delivery_id = d.id) AS jwt_pruned`;
      const rows = (
        filter.instanceId
          ? prepared(`SELECT ${columns} FROM deliveries d WHERE instance_id = ? ORDER BY id DESC LIMIT ?`).all(
              filter.instanceId,
              filter.limit ?? 50,
            )
          : prepared(`SELECT ${columns} FROM deliveries d ORDER BY id DESC LIMIT ?`).all(filter.limit ?? 50)
      ) as DeliverySqlRow[];
      return rows.map(deliveryFromRow);
    },

    /** From delivery_jwts, or the row itself for deliveries stored before it; null once pruned. */
    deliveryJwt(deliveryId: number): StoredJwt | null {
      const row = prepared(
        `SELECT coalesce(j.jwt, nullif(d.jwt, '')) AS jwt, d.received_at AS receivedAt, d.source AS source FROM deliveries d LEFT JOIN delivery_jwts j ON j.delivery_id = d.id WHERE d.id = ?`,
      ).get(deliveryId) as StoredJwt | undefined;
      return row ?? null;
    },

    /**
     * A page of the token audit, newest first. Each filter leads an index that ends in
     * requested_at (instance, key, or time alone), so a page is an index range in order.
     */
    tokenHandouts(request: TokenHandoutListRequest): TokenHandoutRowPage {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (clause: string, ...values: unknown[]) => {
        where.push(clause);
        params.push(...values);
      };
      if (request.instanceId !== undefined) add('instance_id = ?', request.instanceId);
      if (request.apiKeyId !== undefined) add('api_key_id = ?', request.apiKeyId);
      if (request.outcome !== undefined) add('outcome = ?', request.outcome);
      if (request.since !== undefined) add('requested_at >= ?', request.since);
      if (request.until !== undefined) add('requested_at < ?', request.until);
      if (request.after) add('(requested_at, id) < (?, ?)', request.after.requestedAt, request.after.id);
      const rows = prepared(
        `SELECT id, api_key_id AS apiKeyId, instance_id AS instanceId, requested_at AS requestedAt, outcome, token_expires_at AS tokenExpiresAt, request_id AS requestId
         FROM token_handouts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY requested_at DESC, id DESC LIMIT ?`,
      ).all(...params, request.limit + 1) as TokenHandoutRecord[];
      const more = rows.length > request.limit;
      if (more) rows.pop();
      const last = rows.at(-1);
      return { rows, next: more && last ? { requestedAt: last.requestedAt, id: last.id } : null };
    },

    session(idHash: string): DashboardSessionRecord | null {
      return (
        (prepared(
          'SELECT id_hash AS idHash, api_key_id AS apiKeyId, created_at AS createdAt, expires_at AS expiresAt FROM dashboard_sessions WHERE id_hash = ?',
        ).get(idHash) as DashboardSessionRecord | undefined) ?? null
      );
    },

    sessions(): DashboardSessionRecord[] {
      return prepared(
        'SELECT id_hash AS idHash, api_key_id AS apiKeyId, created_at AS createdAt, expires_at AS expiresAt FROM dashboard_sessions ORDER BY created_at DESC',
      ).all() as DashboardSessionRecord[];
    },
  };
}

export type SqliteReads = ReturnType<typeof createSqliteReads>;
export type SqliteReadOp = keyof SqliteReads;
