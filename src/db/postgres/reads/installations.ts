import type pg from 'pg';
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { formatExportPage } from '../../../installations/export-format.ts';
import type { EventPayload, HistoryRecord, InstallationStatus } from '../../../installations/model.ts';
import type { InstallationFilters, InstallationOrdering, Position } from '../../../installations/query-schemas.ts';
import type { ExportFormatName, StoreReads } from '../../store.ts';
import * as schema from '../schema/index.ts';
import { installations } from '../schema/index.ts';
import { createPostgresInstallationPages } from './installation-pages.ts';
import { summaryDays, type SummaryDayRow } from '../../summary-days.ts';

/** Rows per query when an export walks a whole result (as SQLite's EXPORT_PAGE_ROWS). */
export const EXPORT_PAGE_ROWS = 1_000;

const DAY_MS = 86_400_000;
const day = (ms: number) => Math.floor(ms / DAY_MS);

export interface PostgresInstallationReadOptions {
  /** Rows per export chunk (default EXPORT_PAGE_ROWS; tests make short chunks with it). */
  exportPageRows?: number | undefined;
}

/** The installations' reads: pages, one installation, its history, the counters, the per-day summary, exports. */
export function createInstallationReads(pool: pg.Pool, options: PostgresInstallationReadOptions = {}): StoreReads['installations'] {
  const db = drizzle(pool, { schema });
  const pages = createPostgresInstallationPages(db);
  const exportPageRows = options.exportPageRows ?? EXPORT_PAGE_ROWS;

  /** One chunk of an export: up to exportPageRows rows after `after`, formatted (the CSV header with the first). */
  async function exportChunk(
    query: InstallationFilters & InstallationOrdering,
    format: ExportFormatName,
    after: Position | null,
    first: boolean,
  ) {
    const page = await pages.page({ ...query, limit: exportPageRows, after });
    return { text: formatExportPage(format, page.rows, first), next: page.next };
  }

  return {
    page: (request) => pages.page(request),

    async get(instanceId) {
      if (!storable(instanceId)) return null;
      const rows = await db.select().from(installations).where(eq(installations.instanceId, instanceId));
      return rows[0] ?? null;
    },

    /** Every delivery stored for the instance, oldest first by iat. */
    async history(instanceId) {
      if (!storable(instanceId)) return [];
      const { rows } = await pool.query<{
        eventType: string;
        issuedAt: number;
        receivedAt: number;
        outcome: HistoryRecord['outcome'];
        payload: EventPayload | null;
      }>(
        `SELECT event_type AS "eventType", issued_at AS "issuedAt", received_at AS "receivedAt", outcome, payload
         FROM deliveries WHERE instance_id = $1 ORDER BY issued_at, id`,
        [instanceId],
      );
      // A row without a payload reads as SQLite's rows from before payloads were stored do.
      return rows.map((r): HistoryRecord => ({ ...r, payload: r.payload ?? { data: {} } }));
    },

    async status(instanceId) {
      if (!storable(instanceId)) return undefined;
      const { rows } = await pool.query<{ status: InstallationStatus }>('SELECT status FROM installations WHERE instance_id = $1', [
        instanceId,
      ]);
      return rows[0]?.status;
    },

    /** From the trigger-kept counters: no scan of a million rows. */
    async counts() {
      const { rows } = await pool.query<{ name: string; value: number }>(
        `SELECT name, value FROM registry_counters WHERE name LIKE 'installations.%'`,
      );
      const counts: Record<InstallationStatus, number> = { active: 0, removed: 0 };
      for (const row of rows) counts[row.name.slice('installations.'.length) as InstallationStatus] = row.value;
      return counts;
    },

    async newestActive() {
      // The (status, installed_at, instance_id) index, walked backwards: ties go to the highest id, as on SQLite.
      const { rows } = await pool.query<{ instanceId: string }>(
        `SELECT instance_id AS "instanceId" FROM installations WHERE status = 'active' ORDER BY installed_at DESC, instance_id DESC LIMIT 1`,
      );
      return rows[0]?.instanceId;
    },

    async dailySummary(window) {
      const from = day(window.from);
      const to = day(window.to);
      // sum() of int8 is numeric, which node-postgres hands back as a string: cast it back.
      const before = await pool.query<{ n: number }>(
        'SELECT coalesce(sum(active_delta), 0)::bigint AS n FROM daily_summary WHERE day < $1',
        [from],
      );
      const { rows } = await pool.query<SummaryDayRow>(
        `SELECT day, installs, removals, active_delta AS "activeDelta", churn_1d AS "churn1d", churn_7d AS "churn7d", churn_30d AS "churn30d"
         FROM daily_summary WHERE day >= $1 AND day < $2 ORDER BY day`,
        [from, to],
      );
      return { activeBefore: before.rows[0]?.n ?? 0, days: summaryDays(rows, from, to) };
    },

    /**
     * Keyset pages of exportPageRows rows, each its own query on a connection borrowed for that
     * query only: a slow consumer holds no connection between chunks. The first chunk is read
     * before this resolves, so a failing query is an error response rather than a cut-off file.
     */
    async exportChunks(query, format) {
      let chunk = await exportChunk(query, format, null, true);
      async function* chunks(): AsyncGenerator<string> {
        for (;;) {
          if (chunk.text) yield chunk.text;
          if (!chunk.next) return;
          chunk = await exportChunk(query, format, chunk.next, false);
        }
      }
      return chunks();
    },
  };
}

/**
 * PostgreSQL text cannot hold U+0000, so no stored instance id has one; a lookup by such an id
 * (a path parameter like `%00`) is "not found", as on SQLite, rather than a query error.
 */
function storable(instanceId: string): boolean {
  return !instanceId.includes('\u0000');
}
