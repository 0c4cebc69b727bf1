import { and, sql, type SQL } from 'drizzle-orm';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { InstallationRecord } from '../../../installations/model.ts';
import type {
  InstallationFilters,
  InstallationSort,
  InstallationStatus,
  Position,
  SortOrder,
} from '../../../installations/query-schemas.ts';
import type { InstallationListRequest, InstallationRowPage } from '../../store.ts';
import * as schema from '../schema/index.ts';
import { installations, planTierSql } from '../schema/index.ts';
import { escapeLike } from '../../like-pattern.ts';

type Db = BetterSQLite3Database<typeof schema>;
type InstallationRow = typeof installations.$inferSelect;

/** drizzle already maps the columns; the row is the domain's record. */
const installationFromDrizzle = (row: InstallationRow): InstallationRecord => row;

const SORT_COLUMNS = {
  installedAt: installations.installedAt,
  removedAt: installations.removedAt,
  updatedAt: installations.updatedAt,
} as const;

type TermKind = 'status' | 'planTier' | 'planProduct' | 'installed' | 'removed' | 'search' | 'shortSearch';

/** The search index is trigram: a search of fewer characters cannot use it (and is tested row by row). */
export const SEARCH_INDEX_MIN_CHARS = 3;
/**
 * A walk that ran out of budget before its page was full finishes the page from the search
 * index instead, when the search matches at most this many rows: then "a page is full when
 * matches exist" holds even for matches clustered far from where the walk started.
 */
export const SEARCH_SORT_CAP = 50_000;

/**
 * One filter as SQL twice over: `usable`, which an index on its column can serve, and
 * `residual`, the same test with the columns behind a unary `+`, which SQLite then cannot serve
 * from an index (sqlite.org/optoverview.html, "Disqualifying WHERE clause terms using unary-+").
 * The plan below picks which terms may drive the query and makes every other one residual, so
 * the access path does not depend on the planner's guesses or on whether ANALYZE ever ran.
 */
interface Term {
  kind: TermKind;
  usable: SQL;
  residual: SQL;
  /** A time range's bounds, on its term: inclusive lower, exclusive upper. */
  lower?: number | undefined;
  upper?: number | undefined;
  /** The status asked for, on the status term. */
  status?: InstallationStatus | undefined;
  /** The search index query, on an indexed search term. */
  phrase?: string | undefined;
}

/**
 * Filters whose index also yields the sort's order (the index is (filter, sort key, instance_id)
 * or the sort key's own): a page is then one index range, however rare the match.
 */
const ORDER_COMPATIBLE: Record<InstallationSort, readonly TermKind[]> = {
  installedAt: ['status', 'planTier', 'planProduct', 'installed'],
  removedAt: ['removed'],
  updatedAt: [],
};
/** Filters with an index of their own (src/db/sqlite/schema/installations.ts; the search's in migrations/sqlite/0008). */
const INDEXED: readonly TermKind[] = ['status', 'planTier', 'planProduct', 'installed', 'removed', 'search'];

/**
 * Rows a walk that tests unindexed filters looks at per query (see fetchRows). Reads run on reader
 * threads, so this bounds the work of one request (and the wait of those queued behind it), not
 * the event loop.
 */
export const WALK_BUDGET_ROWS = 20_000;

interface Fetched {
  rows: InstallationRow[];
  /** Set when the budget ended the walk before `count` rows matched: continue after it. */
  resume: Position | null;
}

interface AccessPlan {
  /** null: walk the sort's index in order, testing other filters on the way. A term: read the
   *  (few) rows that term's index finds, and sort them. */
  driver: Term | null;
}

/**
 * Pages of installations in a sort order under any filters, by keyset, on SQLite: the hand-built
 * access planning below picks which index drives each page, so a page costs an index range
 * whatever the filters (see the README's performance notes).
 */
export function createSqliteInstallationPages(
  db: Db,
  options: {
    /** Overrides the walk-or-sort bound of choosePlan (tests force each access path with it). */
    maxRowsToSort?: number | undefined;
    /** Overrides WALK_BUDGET_ROWS (tests make short pages with it). */
    walkBudgetRows?: number | undefined;
  } = {},
) {
  const walkBudget = Math.max(1, options.walkBudgetRows ?? WALK_BUDGET_ROWS);
  const id = installations.instanceId;

  function terms(f: InstallationFilters): Term[] {
    const out: Term[] = [];
    const both = (kind: TermKind, build: (plus: SQL) => SQL, lower?: number, upper?: number) =>
      out.push({ kind, usable: build(sql.raw('')), residual: build(sql.raw('+')), lower, upper });
    const { status, plan, installedFrom, installedTo, removedFrom, removedTo, q } = f;
    if (status)
      out.push({
        kind: 'status',
        usable: sql`${installations.status} = ${status}`,
        residual: sql`+${installations.status} = ${status}`,
        status,
      });
    if (plan === 'paid' || plan === 'free') both('planTier', (p) => sql`${p}${planTierSql(installations)} = ${plan}`);
    else if (plan) both('planProduct', (p) => sql`${p}${installations.planVendorProductId} = ${plan}`);
    const range = (kind: TermKind, column: SQLiteColumn, from?: number, to?: number) => {
      if (from === undefined && to === undefined) return;
      both(
        kind,
        (p) => {
          const parts: SQL[] = [];
          if (from !== undefined) parts.push(sql`${p}${column} >= ${from}`);
          if (to !== undefined) parts.push(sql`${p}${column} < ${to}`);
          return sql.join(parts, sql` AND `);
        },
        from,
        to,
      );
    };
    range('installed', installations.installedAt, installedFrom, installedTo);
    range('removed', installations.removedAt, removedFrom, removedTo);
    if (q) {
      // What a search means: LIKE, case-insensitive for ASCII letters only (SQLite without ICU).
      // The trigram index (installations_search) finds the candidates when the search is long
      // enough to have a trigram; LIKE still decides, so both access paths give the same answer.
      const pattern = `%${escapeLike(q)}%`;
      const like = sql`(${installations.siteName} LIKE ${pattern} ESCAPE '\\' OR ${installations.siteUrl} LIKE ${pattern} ESCAPE '\\' OR ${id} LIKE ${pattern} ESCAPE '\\')`;
      if ([...q].length >= SEARCH_INDEX_MIN_CHARS) {
        const phrase = `"${q.replaceAll('"', '""')}"`;
        // Rows not indexed yet (search_pending, migration 0011) are candidates too: results stay exact while the index catches up.
        out.push({
          kind: 'search',
          usable: sql`(${installations}.rowid IN (SELECT rowid FROM installations_search WHERE installations_search MATCH ${phrase}) OR ${installations}.rowid IN (SELECT installation_rowid FROM search_pending)) AND ${like}`,
          residual: like,
          phrase,
        });
      } else {
        out.push({ kind: 'shortSearch', usable: like, residual: like });
      }
    }
    return out;
  }

  /**
   * Walk in order, or read a filter's few matches and sort them? Walking costs about
   * rows-per-page × table size / matches row visits, sorting about `matches`: they cross near
   * sqrt(rows-per-page × table size) matches (≈7,000 for 50 rows of 1,000,000). Each filter
   * whose index cannot give the sort's order is counted on its own index up to that bound (a
   * covering count, at most that many index entries); the rarest one under it drives.
   */
  function choosePlan(all: Term[], sort: InstallationSort, rowsPerPage: number): AccessPlan {
    const candidates = all.filter((t) => INDEXED.includes(t.kind) && !ORDER_COMPATIBLE[sort].includes(t.kind));
    if (candidates.length === 0) return { driver: null };
    const bound = options.maxRowsToSort ?? Math.max(200, Math.ceil(Math.sqrt(rowsPerPage * tableSize())));
    let best: { term: Term; matches: number } | null = null;
    for (const term of candidates) {
      const matches = countMatches(term, bound);
      if (matches <= bound && (!best || matches < best.matches)) best = { term, matches };
    }
    return { driver: best?.term ?? null };
  }

  /** How many rows the term's own index finds, counted up to `bound` + 1 (a covering count). */
  function countMatches(term: Term, bound: number): number {
    const count = (from: SQL) => db.get<{ n: number }>(sql`SELECT count(*) AS n FROM (${from})`)?.n ?? 0;
    if (!term.phrase) return count(sql`SELECT 1 FROM ${installations} WHERE ${term.usable} LIMIT ${bound + 1}`);
    // The index's matches and the rows still waiting to be indexed.
    const indexed = count(sql`SELECT 1 FROM installations_search WHERE installations_search MATCH ${term.phrase} LIMIT ${bound + 1}`);
    return indexed > bound ? indexed : indexed + count(sql`SELECT 1 FROM search_pending LIMIT ${bound + 1 - indexed}`);
  }

  /** The row count, near enough for a threshold: max(rowid) is one probe (no row is ever deleted). */
  function tableSize(): number {
    return db.get<{ n: number | null }>(sql`SELECT max(rowid) AS n FROM ${installations}`)?.n ?? 0;
  }

  function selectRows(where: SQL[], orderBy: SQL[], count: number): InstallationRow[] {
    return db
      .select()
      .from(installations)
      .where(and(...where))
      .orderBy(...orderBy)
      .limit(count)
      .all();
  }

  /**
   * Up to `count` rows after `after`, in (sort key, instance id) order: keyset pagination, so a
   * page starts where the last one ended and stays correct while rows are added.
   *
   * Under sort=removedAt, rows with no removal time (active installations) come after every
   * removed one, in both orders, and among themselves by (installedAt, instance id) in the same
   * order: the walk finishes the rows that have a key (on the partial index of removal times),
   * then goes on to those that do not (on the install-time indexes), and a cursor with a null
   * key points into that second part. status = 'removed' exactly when removed_at is set
   * (state-machine.ts sets both in one step, and an install clears both), so a status filter
   * skips a part, and status=active is served by (status, installed_at, instance_id).
   *
   * A walk that tests filters its index cannot serve looks at no more than WALK_BUDGET_ROWS
   * rows, so one request for a rare combination cannot hold a reader for seconds. Such a page
   * can come back short, even empty, with a cursor at the last row looked at (`resume`).
   */
  function fetchRows(
    all: Term[],
    plan: AccessPlan,
    sort: InstallationSort,
    order: SortOrder,
    after: Position | null,
    count: number,
  ): Fetched {
    const walking = plan.driver === null;
    const removedBefore = all.find((t) => t.kind === 'removed')?.upper;

    /**
     * One walk in (column, instance_id) order, `order`-wards from `from`. `compatible`: the
     * filters an index in that order serves. `notNull`: only rows with a value in `column`
     * (which, for removed_at, is status=removed already: a status filter then needs no test);
     * `tested`: a condition of this part that no index serves.
     */
    const part = (
      column: SQLiteColumn,
      compatible: readonly TermKind[],
      extra: { notNull?: boolean; statusImplied?: boolean; tested?: SQL },
      from: { key: number; instanceId: string } | null,
      wanted: number,
      position: (row: { key: number; instanceId: string }) => Position,
    ): Fetched => {
      const beyond = sql.raw(order === 'asc' ? '>' : '<');
      const tested: SQL[] = extra.tested ? [extra.tested] : [];
      if (!walking) {
        // Sorting the driver's matches: everything else, sort columns included, is kept away
        // from the indexes (`+`), or SQLite could prefer walking one of them to sorting.
        const where = [plan.driver!.usable, ...all.filter((t) => t !== plan.driver).map((t) => t.residual), ...tested];
        if (extra.notNull) where.push(sql`+${column} IS NOT NULL`);
        if (from) where.push(sql`(+${column}, +${id}) ${beyond} (${from.key}, ${from.instanceId})`);
        const rows = selectRows(where, [sql`+${column} ${sql.raw(order)}`, sql`+${id} ${sql.raw(order)}`], wanted);
        return { rows, resume: null };
      }

      const served: SQL[] = [];
      const sameColumn = column === installations.installedAt ? 'installed' : column === installations.removedAt ? 'removed' : null;
      let lower: number | undefined;
      let upper: number | undefined;
      for (const t of all) {
        if (extra.statusImplied && t.kind === 'status') continue;
        if (t.kind === sameColumn) [lower, upper] = [t.lower, t.upper];
        else if (compatible.includes(t.kind)) served.push(t.usable);
        else tested.push(t.residual);
      }
      if (column === installations.installedAt && removedBefore !== undefined) {
        // removed_at >= installed_at always (state-machine.ts sets removedAt only on an active
        // installation, from a later event), so a removal bound is an install bound too: the
        // walk then starts at the rows that can match instead of passing every newer install.
        upper = Math.min(upper ?? Infinity, removedBefore);
      }
      type RowBound = { key: number; instanceId: string; inclusive: boolean };
      const start: RowBound | null = from ? { ...from, inclusive: false } : null;
      /**
       * One range constraint per side of the index, the tightest: SQLite bounds a scan by one
       * constraint per side, and picked among several it can take the loose one and read every
       * row up to the cursor. A row-value bound comes with its scalar twin (c <= k), which bounds
       * the scan as tightly (up to ties) whichever of the two SQLite takes, and which tells it
       * that the column is not null (the partial index of removal times needs that).
       */
      const bounds = (end: RowBound | null): SQL[] => {
        const [low, high] = order === 'desc' ? [end, start] : [start, end];
        const out: SQL[] = [];
        if (high && (upper === undefined || high.key < upper)) {
          out.push(
            sql`(${column}, ${id}) ${sql.raw(high.inclusive ? '<=' : '<')} (${high.key}, ${high.instanceId})`,
            sql`${column} <= ${high.key}`,
          );
        } else if (upper !== undefined) out.push(sql`${column} < ${upper}`);
        if (low && (lower === undefined || low.key >= lower)) {
          out.push(
            sql`(${column}, ${id}) ${sql.raw(low.inclusive ? '>=' : '>')} (${low.key}, ${low.instanceId})`,
            sql`${column} >= ${low.key}`,
          );
        } else if (lower !== undefined) out.push(sql`${column} >= ${lower}`);
        else if (extra.notNull) out.push(sql`${column} IS NOT NULL`);
        return out;
      };
      const orderBy = [sql`${column} ${sql.raw(order)}`, sql`${id} ${sql.raw(order)}`];
      let end: RowBound | null = null;
      if (tested.length > 0) {
        // The last row within budget, read from the walk's index alone.
        const row = db.get<{ key: number; id: string }>(
          sql`SELECT ${column} AS key, ${id} AS id FROM ${installations} WHERE ${and(sql`1`, ...served, ...bounds(null))} ORDER BY ${sql.join(orderBy, sql`, `)} LIMIT 1 OFFSET ${walkBudget - 1}`,
        );
        if (row) end = { key: row.key, instanceId: row.id, inclusive: true };
      }
      const rows = selectRows([...served, ...bounds(end), ...tested], orderBy, wanted);
      return { rows, resume: rows.length < wanted && end ? position(end) : null };
    };

    const key = SORT_COLUMNS[sort];
    if (sort !== 'removedAt') {
      const from = after && after.key !== null ? { key: after.key, instanceId: after.instanceId } : null;
      return part(key, ORDER_COMPATIBLE[sort], {}, from, count, (r) => r);
    }
    const status = all.find((t) => t.kind === 'status')?.status;
    let rows: InstallationRow[] = [];
    if ((after === null || after.key !== null) && status !== 'active') {
      const from = after && after.key !== null ? { key: after.key, instanceId: after.instanceId } : null;
      const keyed = part(key, ORDER_COMPATIBLE.removedAt, { notNull: true, statusImplied: status === 'removed' }, from, count, (r) => r);
      if (keyed.resume) return keyed;
      rows = keyed.rows;
    }
    // A removal-time range matches no row without a removal time.
    if (rows.length < count && status !== 'removed' && !all.some((t) => t.kind === 'removed')) {
      const from = after?.key === null && after.installedAt !== undefined ? { key: after.installedAt, instanceId: after.instanceId } : null;
      const unkeyed = part(
        installations.installedAt,
        ORDER_COMPATIBLE.installedAt,
        // status=active already means no removal time; otherwise test for it.
        status === 'active' ? {} : { tested: sql`+${key} IS NULL` },
        from,
        count - rows.length,
        (r) => ({ key: null, instanceId: r.instanceId, installedAt: r.key }),
      );
      return { rows: [...rows, ...unkeyed.rows], resume: unkeyed.resume };
    }
    return { rows, resume: null };
  }

  /** Where the walk stands after `row`. */
  function positionAfter(row: InstallationRow, sort: InstallationSort): Position {
    const key = row[sort];
    return key === null ? { key: null, instanceId: row.instanceId, installedAt: row.installedAt } : { key, instanceId: row.instanceId };
  }

  /**
   * Up to `limit` rows after `after` (null: from the start), and where the walk stands after them:
   * null at the end. A page that tests filters no index serves can come back short, even empty,
   * with a position to continue from.
   */
  function page(request: InstallationListRequest): InstallationRowPage {
    const sort = request.sort ?? 'installedAt';
    const order = request.order ?? 'desc';
    const all = terms(request);
    const wanted = request.limit + 1;
    const plan = choosePlan(all, sort, wanted);
    let { rows, resume } = fetchRows(all, plan, sort, order, request.after, wanted);
    const search = all.find((t) => t.kind === 'search');
    if (resume && rows.length < wanted && search && plan.driver !== search && countMatches(search, SEARCH_SORT_CAP) <= SEARCH_SORT_CAP) {
      // The walk ran out of budget (the matches lie further on): the index finds the rest of the page.
      const rest = fetchRows(all, { driver: search }, sort, order, resume, wanted - rows.length);
      rows = [...rows, ...rest.rows];
      resume = rest.resume;
    }
    const items = rows.slice(0, request.limit);
    const last = items[items.length - 1];
    return { rows: items.map(installationFromDrizzle), next: rows.length > request.limit && last ? positionAfter(last, sort) : resume };
  }

  return { page };
}

export type SqliteInstallationPages = ReturnType<typeof createSqliteInstallationPages>;
