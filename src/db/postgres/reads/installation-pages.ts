import { and, sql, type SQL } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { InstallationRecord } from '../../../installations/model.ts';
import type { InstallationFilters, InstallationSort, Position, SortOrder } from '../../../installations/query-schemas.ts';
import type { InstallationListRequest, InstallationRowPage } from '../../store.ts';
import * as schema from '../schema/index.ts';
import { installations, planTierSql } from '../schema/index.ts';
import { escapeLike } from '../../like-pattern.ts';

type Db = NodePgDatabase<typeof schema>;
type InstallationRow = typeof installations.$inferSelect;

/** drizzle already maps the columns (booleans are booleans, int8 numbers): the row is the domain's record. */
const installationFromDrizzle = (row: InstallationRow): InstallationRecord => row;

const SORT_COLUMNS = {
  installedAt: installations.installedAt,
  removedAt: installations.removedAt,
  updatedAt: installations.updatedAt,
} as const;

/** Lower-cases ASCII letters only: SQLite's LIKE (without ICU) folds those and nothing else. */
const asciiLower = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

/**
 * The expression the pg_trgm GIN index installations_search_idx is built on
 * (migrations/postgres/0001): PostgreSQL uses an expression index only for the same expression,
 * and ANALYZE keeps statistics of it, so the planner knows how common a search term is.
 */
const searchExpression = sql`(coalesce(${installations.siteName}, '') || ' ' || coalesce(${installations.siteUrl}, '') || ' ' || ${installations.instanceId})`;

/**
 * What a search (`q`) means, SQLite's LIKE '%q%': a substring of the site name, the site URL or
 * the instance id, each on its own, with ASCII letters (only those) case-folded.
 */
export function matchesSearch(row: InstallationRow, q: string): boolean {
  const needle = asciiLower(q);
  return [row.siteName, row.siteUrl, row.instanceId].some((value) => value !== null && asciiLower(value).includes(needle));
}

/**
 * How a search reaches the rows: an ILIKE over the indexed expression, which the trigram index
 * serves (for three characters or more; shorter terms have no trigram and are tested on the sort's
 * walk, as on SQLite) and whose selectivity the planner reads from that expression's statistics.
 * It finds a superset of the matches (ILIKE folds every letter, not only ASCII's, and a term
 * with a space can span two of the joined columns; a superset as long as the database's ctype
 * folds ASCII letters to ASCII, which every locale but the Turkic ones does): matchesSearch
 * decides, row by row. Testing
 * that in SQL would hide the term's selectivity behind an expression without statistics, and
 * the planner would then sort every match of a common term instead of walking an index.
 */
function searchCondition(q: string): SQL {
  return sql`${searchExpression} ILIKE ${`%${escapeLike(q)}%`}`;
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
  if (q) out.push(searchCondition(q));
  return out;
}

/**
 * Pages of installations in a sort order under any filters, by keyset, on PostgreSQL. Each page
 * is one query (rarely more: see walk) ordered by (sort key, instance_id), the columns every
 * sort index of the schema ends with, so PostgreSQL either walks that index in order or, for a
 * filter its statistics say is rare, reads the filter's own index and sorts the few matches: the
 * choice SQLite's hand-built planner makes (src/db/sqlite/reads/installation-pages.ts), made
 * here by PostgreSQL's own cost model. Pages are always full while matches remain (SQLite's may
 * come back short).
 */
export function createPostgresInstallationPages(db: Db) {
  const id = installations.instanceId;

  /**
   * Up to `count` rows matching `where` and `accept`, in (sort key, instance_id) `order`, after
   * `from`. Rows `accept` turns down (a search's few false candidates) are read past: the walk
   * goes on from the last row read until it has `count` rows or none are left.
   */
  async function walk(
    sort: InstallationSort,
    where: SQL[],
    accept: ((row: InstallationRow) => boolean) | null,
    from: { key: number; instanceId: string } | null,
    order: SortOrder,
    count: number,
  ): Promise<InstallationRow[]> {
    const column = SORT_COLUMNS[sort];
    const taken: InstallationRow[] = [];
    for (let start = from; ;) {
      const conditions = [...where];
      if (start) conditions.push(sql`(${column}, ${id}) ${sql.raw(order === 'asc' ? '>' : '<')} (${start.key}, ${start.instanceId})`);
      const wanted = count - taken.length;
      const rows = await db
        .select()
        .from(installations)
        .where(and(...conditions))
        .orderBy(sql`${column} ${sql.raw(order)}`, sql`${id} ${sql.raw(order)}`)
        .limit(wanted);
      taken.push(...(accept ? rows.filter(accept) : rows));
      const last = rows.at(-1);
      // Every row of this walk has its key (removed_at is walked only where it is set).
      if (rows.length < wanted || taken.length >= count || !last || last[sort] === null) return taken;
      start = { key: last[sort], instanceId: last.instanceId };
    }
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
    const q = request.q;
    const accept = q ? (row: InstallationRow) => matchesSearch(row, q) : null;
    const after = request.after;
    if (sort !== 'removedAt') {
      const from = after && after.key !== null ? { key: after.key, instanceId: after.instanceId } : null;
      return walk(sort, where, accept, from, order, count);
    }
    let rows: InstallationRow[] = [];
    if ((after === null || after.key !== null) && request.status !== 'active') {
      const from = after && after.key !== null ? { key: after.key, instanceId: after.instanceId } : null;
      // IS NOT NULL spelled out: it is what lets PostgreSQL use the partial index of removal times.
      rows = await walk('removedAt', [...where, sql`${installations.removedAt} IS NOT NULL`], accept, from, order, count);
    }
    // A removal-time range matches no row without a removal time.
    if (rows.length < count && request.status !== 'removed' && request.removedFrom === undefined && request.removedTo === undefined) {
      const from = after?.key === null && after.installedAt !== undefined ? { key: after.installedAt, instanceId: after.instanceId } : null;
      // status=active already means no removal time; otherwise test for it.
      const unkeyed = request.status === 'active' ? where : [...where, sql`${installations.removedAt} IS NULL`];
      rows = [...rows, ...(await walk('installedAt', unkeyed, accept, from, order, count - rows.length))];
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
    // PostgreSQL text cannot hold U+0000: no stored row matches a search or plan that has one (as
    // on SQLite, where it simply matches nothing), and a cursor's id cannot be sent with it.
    if (request.q?.includes('\u0000') || request.plan?.includes('\u0000')) return { rows: [], next: null };
    if (request.after?.instanceId.includes('\u0000'))
      request = { ...request, after: { ...request.after, instanceId: request.after.instanceId.replaceAll('\u0000', '') } };
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
