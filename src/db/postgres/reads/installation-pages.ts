import { and, sql, type SQL } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { InstallationRecord } from '../../../installations/model.ts';
import type { InstallationFilters, InstallationSort, Position, SortOrder } from '../../../installations/query-schemas.ts';
import type { InstallationListRequest, InstallationRowPage } from '../../store.ts';
import * as schema from '../schema/index.ts';
import { installations, planTierSql } from '../schema/index.ts';

type Db = NodePgDatabase<typeof schema>;
type InstallationRow = typeof installations.$inferSelect;

/** drizzle already maps the columns (booleans are booleans, int8 numbers): the row is the domain's record. */
const installationFromDrizzle = (row: InstallationRow): InstallationRecord => row;

/** `%`, `_` and `\` in a search are literal characters, not LIKE wildcards (`\` is PostgreSQL's default LIKE escape, as SQLite's ESCAPE '\'). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * pg_trgm finds no trigram in a shorter search, so its index cannot narrow it down: such a
 * search is tested row by row on the sort's walk, as SQLite does (SEARCH_INDEX_MIN_CHARS there).
 */
export const SEARCH_INDEX_MIN_CHARS = 3;

const SORT_COLUMNS = {
  installedAt: installations.installedAt,
  removedAt: installations.removedAt,
  updatedAt: installations.updatedAt,
} as const;

const UPPER_ASCII = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER_ASCII = 'abcdefghijklmnopqrstuvwxyz';

/** Lower-cases ASCII letters only: SQLite's LIKE (without ICU) folds those and nothing else. */
const asciiLower = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());
const asciiLowerSql = (column: PgColumn) => sql`translate(${column}, ${sql.raw(`'${UPPER_ASCII}'`)}, ${sql.raw(`'${LOWER_ASCII}'`)})`;

/**
 * The expression the pg_trgm GIN index installations_search_idx is built on
 * (migrations/postgres/0001): PostgreSQL uses an expression index only for the same expression.
 */
const searchExpression = sql`(coalesce(${installations.siteName}, '') || ' ' || coalesce(${installations.siteUrl}, '') || ' ' || ${installations.instanceId})`;

/**
 * The search (`q`) as SQL. What it means is SQLite's: a case-insensitive substring, for ASCII
 * letters only, of the site name, the site URL or the instance id, each on its own. The ILIKE
 * over the indexed expression is what lets the trigram index find the candidates; it matches a
 * superset (ILIKE folds every letter, and a match may span two of the joined columns), so the
 * per-column test on ASCII-folded text decides, and both access paths give SQLite's answer.
 */
function searchConditions(q: string): SQL[] {
  const pattern = `%${escapeLike(q)}%`;
  const folded = asciiLower(pattern);
  const exact = sql`(${asciiLowerSql(installations.siteName)} LIKE ${folded} OR ${asciiLowerSql(installations.siteUrl)} LIKE ${folded} OR ${asciiLowerSql(installations.instanceId)} LIKE ${folded})`;
  return [...q].length >= SEARCH_INDEX_MIN_CHARS ? [sql`${searchExpression} ILIKE ${pattern}`, exact] : [exact];
}

/**
 * Every filter as one condition each. Each is written the way an index of the schema states it
 * (src/db/postgres/schema/installations.ts), so PostgreSQL's planner can pick that index: the
 * plan tier through planTierSql (the expression index), a product through the partial index on
 * plan_vendor_product_id, a search through the trigram index.
 */
function filterConditions(f: InstallationFilters): SQL[] {
  const out: SQL[] = [];
  const { status, plan, installedFrom, installedTo, removedFrom, removedTo, q } = f;
  if (status) out.push(sql`${installations.status} = ${status}`);
  if (plan === 'paid' || plan === 'free') out.push(sql`${planTierSql(installations)} = ${plan}`);
  else if (plan) out.push(sql`${installations.planVendorProductId} = ${plan}`);
  if (installedFrom !== undefined) out.push(sql`${installations.installedAt} >= ${installedFrom}`);
  if (installedTo !== undefined) out.push(sql`${installations.installedAt} < ${installedTo}`);
  if (removedFrom !== undefined) out.push(sql`${installations.removedAt} >= ${removedFrom}`);
  if (removedTo !== undefined) {
    out.push(sql`${installations.removedAt} < ${removedTo}`);
    // removed_at >= installed_at always (state-machine.ts sets removedAt only on an active
    // installation, from a later event), so a removal bound is an install bound too: a walk of
    // install times then starts at the rows that can match (SQLite's planner does the same).
    out.push(sql`${installations.installedAt} < ${removedTo}`);
  }
  if (q) out.push(...searchConditions(q));
  return out;
}

/**
 * Pages of installations in a sort order under any filters, by keyset, on PostgreSQL. Each page
 * is one query ordered by (sort key, instance_id), the columns every sort index of the schema
 * ends with, so PostgreSQL either walks that index in order or, for a filter its statistics say
 * is rare, reads the filter's own index and sorts the few matches: the choice SQLite's hand-built
 * planner makes (src/db/sqlite/reads/installation-pages.ts), made here by PostgreSQL's own cost
 * model. Pages are always full while matches remain (SQLite's may come back short).
 */
export function createPostgresInstallationPages(db: Db) {
  const id = installations.instanceId;

  /** Up to `count` rows matching `where`, in (column, instance_id) `order`, after `from`. */
  async function walk(column: PgColumn, where: SQL[], from: { key: number; instanceId: string } | null, order: SortOrder, count: number) {
    const conditions = [...where];
    if (from) conditions.push(sql`(${column}, ${id}) ${sql.raw(order === 'asc' ? '>' : '<')} (${from.key}, ${from.instanceId})`);
    return db
      .select()
      .from(installations)
      .where(and(...conditions))
      .orderBy(sql`${column} ${sql.raw(order)}`, sql`${id} ${sql.raw(order)}`)
      .limit(count);
  }

  /**
   * Up to `count` rows after `after`, in (sort key, instance id) order: keyset pagination, so a
   * page starts where the last one ended and stays correct while rows are added.
   *
   * Under sort=removedAt, rows with no removal time (active installations) come after every
   * removed one, in both orders, and among themselves by (installedAt, instance id) in the same
   * order, exactly as on SQLite: the walk finishes the rows that have a key (on the partial index
   * of removal times), then goes on to those that do not (on the install-time indexes), and a
   * cursor with a null key points into that second part. status = 'removed' exactly when
   * removed_at is set, so a status filter skips a part.
   */
  async function fetchRows(
    request: InstallationListRequest,
    sort: InstallationSort,
    order: SortOrder,
    count: number,
  ): Promise<InstallationRow[]> {
    const where = filterConditions(request);
    const after = request.after;
    if (sort !== 'removedAt') {
      const from = after && after.key !== null ? { key: after.key, instanceId: after.instanceId } : null;
      return walk(SORT_COLUMNS[sort], where, from, order, count);
    }
    let rows: InstallationRow[] = [];
    if ((after === null || after.key !== null) && request.status !== 'active') {
      const from = after && after.key !== null ? { key: after.key, instanceId: after.instanceId } : null;
      // IS NOT NULL spelled out: it is what lets PostgreSQL use the partial index of removal times.
      rows = await walk(installations.removedAt, [...where, sql`${installations.removedAt} IS NOT NULL`], from, order, count);
    }
    // A removal-time range matches no row without a removal time.
    if (rows.length < count && request.status !== 'removed' && request.removedFrom === undefined && request.removedTo === undefined) {
      const from = after?.key === null && after.installedAt !== undefined ? { key: after.installedAt, instanceId: after.instanceId } : null;
      // status=active already means no removal time; otherwise test for it.
      const unkeyed = request.status === 'active' ? where : [...where, sql`${installations.removedAt} IS NULL`];
      rows = [...rows, ...(await walk(installations.installedAt, unkeyed, from, order, count - rows.length))];
    }
    return rows;
  }

  /** Where the walk stands after `row`: the same Position SQLite gives, so cursors work on either engine. */
  function positionAfter(row: InstallationRow, sort: InstallationSort): Position {
    const key = row[sort];
    return key === null ? { key: null, instanceId: row.instanceId, installedAt: row.installedAt } : { key, instanceId: row.instanceId };
  }

  /** Up to `limit` rows after `after` (null: from the start), and where the walk stands after them: null at the end. */
  async function page(request: InstallationListRequest): Promise<InstallationRowPage> {
    const sort = request.sort ?? 'installedAt';
    const order = request.order ?? 'desc';
    // One row more than asked: whether another page exists, without a count.
    const rows = await fetchRows(request, sort, order, request.limit + 1);
    const items = rows.slice(0, request.limit);
    const last = items.at(-1);
    return { rows: items.map(installationFromDrizzle), next: rows.length > request.limit && last ? positionAfter(last, sort) : null };
  }

  return { page };
}

export type PostgresInstallationPages = ReturnType<typeof createPostgresInstallationPages>;
