import { and, asc, eq, like, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { z } from 'zod';
import { systemClock, type Clock } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { deliveries, installationEvents, installations, planTierSql, registryCounters, type InstallationRow } from '../db/schema/index.ts';
import { AppError } from '../errors.ts';
import { createDailyStats } from './daily-stats.ts';
import { iso, toInstallation, type Installation } from './serialize.ts';

export const LIST_LIMIT_DEFAULT = 50;
export const LIST_LIMIT_MAX = 500;
export const SEARCH_MAX_LENGTH = 200;
export const INSTALLATION_STATUSES = ['active', 'removed'] as const;
export const INSTALLATION_SORTS = ['installedAt', 'removedAt', 'updatedAt'] as const;
export const SORT_ORDERS = ['desc', 'asc'] as const;

export type InstallationStatus = (typeof INSTALLATION_STATUSES)[number];
export type InstallationSort = (typeof INSTALLATION_SORTS)[number];
export type SortOrder = (typeof SORT_ORDERS)[number];

/** Filters shared by the list, the export and the CLI. Times are epoch ms. */
export interface InstallationFilters {
  status?: InstallationStatus | undefined;
  /**
   * `paid`, `free`, or a vendorProductId. paid: `is_free = 0 OR plan_vendor_product_id IS NOT NULL`;
   * free: every other row (is_free 1 or unknown, and no product). See planTierSql in the schema.
   * A product literally named "free" or "paid" cannot be asked for by id.
   */
  plan?: string | undefined;
  /** Inclusive. */
  installedFrom?: number | undefined;
  /** Exclusive. */
  installedTo?: number | undefined;
  removedFrom?: number | undefined;
  removedTo?: number | undefined;
  /** Case-insensitive (ASCII) substring of the site name, the site URL or the instance id. */
  q?: string | undefined;
}

export interface InstallationOrdering {
  /** installedAt (default), removedAt (rows without a removal time come last) or updatedAt. */
  sort?: InstallationSort | undefined;
  order?: SortOrder | undefined;
}

export interface ListInstallationsQuery extends InstallationFilters, InstallationOrdering {
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface InstallationPage {
  items: Installation[];
  nextCursor: string | null;
}

// ---------------------------------------------------------------------------------------------
// Parsing: one zod schema per entry point, used by the HTTP routes and the CLI alike.

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+\- ]\d{2}:\d{2})$/;

/**
 * An ISO-8601 date (`2026-10-01`, midnight UTC) or date-time with a zone (`2026-10-01T12:30:00Z`,
 * `…+02:00`) as epoch ms; null when it is not one, or names a day that does not exist. A space
 * where the offset's `+` should be is read as `+`: an unencoded `+` in a query string arrives as
 * a space.
 */
export function parseIsoInstant(text: string): number | null {
  const date = ISO_DATE.exec(text);
  const dateTime = date ? null : ISO_DATE_TIME.exec(text);
  const m = date ?? dateTime;
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = dateTime ? [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)] : [0, 0, 0];
  const millis = dateTime && m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const local = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  if (new Date(local).getUTCDate() !== day) return null; // 2026-02-30
  const zone = dateTime ? m[8]! : 'Z';
  if (zone === 'Z' || zone === 'z') return local;
  const sign = zone[0] === '-' ? -1 : 1;
  const offsetMinutes = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6));
  return local - sign * offsetMinutes * 60_000;
}

const isoInstant = z.string().transform((text, ctx) => {
  const ms = parseIsoInstant(text);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 date (2026-10-01, midnight UTC) or date-time with a zone (2026-10-01T12:00:00Z)' });
    return z.NEVER;
  }
  return ms;
});

const filterShape = {
  status: z.enum(INSTALLATION_STATUSES).optional(),
  plan: z.string().min(1).max(200).optional(),
  installedFrom: isoInstant.optional(),
  installedTo: isoInstant.optional(),
  removedFrom: isoInstant.optional(),
  removedTo: isoInstant.optional(),
  q: z.string().min(1).max(SEARCH_MAX_LENGTH).optional(),
};

const orderingShape = {
  sort: z.enum(INSTALLATION_SORTS).default('installedAt'),
  order: z.enum(SORT_ORDERS).default('desc'),
};

/** An empty range is a mistake worth saying so, not an empty page. */
function checkRanges(value: InstallationFilters, ctx: z.RefinementCtx): void {
  for (const [from, to] of [
    ['installedFrom', 'installedTo'],
    ['removedFrom', 'removedTo'],
  ] as const) {
    const a = value[from];
    const b = value[to];
    if (a !== undefined && b !== undefined && a >= b) ctx.addIssue({ code: 'custom', path: [to], message: `must be later than ${from}` });
  }
}

/** The filters alone (what `installationListQuerySchema` and `installationExportQuerySchema` share). */
export const installationFiltersSchema = z.object(filterShape).strict().superRefine(checkRanges);

/** GET /v1/installations and `installs list`. */
export const installationListQuerySchema = z
  .object({
    ...filterShape,
    ...orderingShape,
    limit: z.coerce.number().int().min(1).max(LIST_LIMIT_MAX).default(LIST_LIMIT_DEFAULT),
    cursor: z.string().min(1).max(1024).optional(),
  })
  .strict()
  .superRefine(checkRanges);

export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** GET /v1/installations/export and `installs export`: the filters, an order, no paging. */
export const installationExportQuerySchema = z
  .object({ ...filterShape, ...orderingShape, format: z.enum(EXPORT_FORMATS).default('ndjson') })
  .strict()
  .superRefine(checkRanges);

export type InstallationExportQuery = z.output<typeof installationExportQuerySchema>;

/**
 * Parses input (a query string's parameters, a CLI's options) or throws AppError('bad_request')
 * naming every bad parameter. `nameOf` renames parameters in the message (CLI flags).
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, nameOf: (key: string) => string = (key) => key): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const message = parsed.error.issues
      .map((i) =>
        i.code === 'unrecognized_keys'
          ? `unknown parameter(s): ${i.keys.map(nameOf).join(', ')}`
          : `${i.path.map((p) => nameOf(String(p))).join('.')}: ${i.message}`,
      )
      .join('; ');
    throw new AppError('bad_request', message);
  }
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------
// Cursors

/**
 * A place in a walk: the last row's sort key and instance id. Under sort=removedAt a row with
 * no removal time has key null, and its installedAt places it (see fetchRows).
 */
export interface Position {
  key: number | null;
  instanceId: string;
  installedAt?: number | undefined;
}

interface CursorPosition extends Position {
  sort: InstallationSort;
  order: SortOrder;
}

/** Opaque to clients: base64url of the last row's position, and which sort and order it is for. */
export function encodeCursor(position: CursorPosition): string {
  const value: unknown[] = [position.sort, position.order, position.key, position.instanceId];
  if (position.key === null) value.push(position.installedAt);
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The cursor's position, or AppError('bad_request') if it is not one, or is for another sort. */
export function decodeCursor(cursor: string, expected: { sort: InstallationSort; order: SortOrder }): Position {
  const position = readCursor(cursor);
  if (!position) throw new AppError('bad_request', 'cursor: not a cursor this API returned');
  if (position.sort !== expected.sort || position.order !== expected.order) {
    throw new AppError(
      'bad_request',
      `cursor: it continues sort=${position.sort}&order=${position.order}, not sort=${expected.sort}&order=${expected.order}; send the same sort and order as the first page, or no cursor`,
    );
  }
  const { sort: _sort, order: _order, ...rest } = position;
  return rest;
}

function readCursor(cursor: string): CursorPosition | null {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(value)) return null;
  // The first release's cursors: [installedAt, instanceId], newest first.
  if (value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string' && value[1]) {
    return { sort: 'installedAt', order: 'desc', key: value[0] as number, instanceId: value[1] };
  }
  const [sort, order, key, instanceId, installedAt] = value as unknown[];
  if (!INSTALLATION_SORTS.includes(sort as InstallationSort) || !SORT_ORDERS.includes(order as SortOrder)) return null;
  if (typeof instanceId !== 'string' || !instanceId) return null;
  const base = { sort: sort as InstallationSort, order: order as SortOrder, instanceId };
  if (value.length === 4 && Number.isSafeInteger(key)) return { ...base, key: key as number };
  if (value.length === 5 && key === null && sort === 'removedAt' && Number.isSafeInteger(installedAt)) {
    return { ...base, key: null, installedAt: installedAt as number };
  }
  return null;
}

/** `%` and `_` in a search are literal characters, not LIKE wildcards. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const SORT_COLUMNS = {
  installedAt: installations.installedAt,
  removedAt: installations.removedAt,
  updatedAt: installations.updatedAt,
} as const;

/** Rows per query when `pages()` walks a whole result (the export). */
export const PAGE_WALK_ROWS = 1000;

type TermKind = 'status' | 'planTier' | 'planProduct' | 'installed' | 'removed' | 'search';

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
/** Filters with an index of their own (see src/db/schema/installations.ts). */
const INDEXED: readonly TermKind[] = ['status', 'planTier', 'planProduct', 'installed', 'removed'];

/** Rows a walk that tests unindexed filters looks at per query (see fetchRows). */
export const WALK_BUDGET_ROWS = 3_000;

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

/** The questions developers ask of installations. */
export function createInstallationQueries(
  db: Db,
  options: {
    clock?: Clock;
    /** Overrides the walk-or-sort bound of choosePlan (tests force each access path with it). */
    maxRowsToSort?: number;
    /** Overrides WALK_BUDGET_ROWS (tests make short pages with it). */
    walkBudgetRows?: number;
  } = {},
) {
  const walkBudget = Math.max(1, options.walkBudgetRows ?? WALK_BUDGET_ROWS);
  const id = installations.instanceId;

  function terms(f: InstallationFilters): Term[] {
    const out: Term[] = [];
    const both = (kind: TermKind, build: (plus: SQL) => SQL, lower?: number, upper?: number) =>
      out.push({ kind, usable: build(sql.raw('')), residual: build(sql.raw('+')), lower, upper });
    const { status, plan, installedFrom, installedTo, removedFrom, removedTo, q } = f;
    if (status) out.push({ kind: 'status', usable: sql`${installations.status} = ${status}`, residual: sql`+${installations.status} = ${status}`, status });
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
      // LIKE is case-insensitive for ASCII letters only (SQLite without ICU). A substring cannot
      // use a B-tree index: the search filters the rows another index finds (see the README).
      const pattern = `%${escapeLike(q)}%`;
      const search = sql`(${installations.siteName} LIKE ${pattern} ESCAPE '\\' OR ${installations.siteUrl} LIKE ${pattern} ESCAPE '\\' OR ${id} LIKE ${pattern} ESCAPE '\\')`;
      out.push({ kind: 'search', usable: search, residual: search });
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
      const matches = db.get<{ n: number }>(sql`SELECT count(*) AS n FROM (SELECT 1 FROM ${installations} WHERE ${term.usable} LIMIT ${bound + 1})`)?.n ?? 0;
      if (matches <= bound && (!best || matches < best.matches)) best = { term, matches };
    }
    return { driver: best?.term ?? null };
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
   * A walk that tests filters its index cannot serve (a search, above all) looks at no more
   * than WALK_BUDGET_ROWS rows: better-sqlite3 runs on the event loop, and one search for a
   * rare word in a million rows would otherwise hold up webhook deliveries for seconds. Such a
   * page can come back short, even empty, with a cursor at the last row looked at (`resume`).
   */
  function fetchRows(all: Term[], plan: AccessPlan, sort: InstallationSort, order: SortOrder, after: Position | null, count: number): Fetched {
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
          out.push(sql`(${column}, ${id}) ${sql.raw(high.inclusive ? '<=' : '<')} (${high.key}, ${high.instanceId})`, sql`${column} <= ${high.key}`);
        } else if (upper !== undefined) out.push(sql`${column} < ${upper}`);
        if (low && (lower === undefined || low.key >= lower)) {
          out.push(sql`(${column}, ${id}) ${sql.raw(low.inclusive ? '>=' : '>')} (${low.key}, ${low.instanceId})`, sql`${column} >= ${low.key}`);
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

  function list(query: ListInstallationsQuery): InstallationPage {
    const limit = query.limit ?? LIST_LIMIT_DEFAULT;
    const sort = query.sort ?? 'installedAt';
    const order = query.order ?? 'desc';
    const after = query.cursor ? decodeCursor(query.cursor, { sort, order }) : null;
    const all = terms(query);
    const { rows, resume } = fetchRows(all, choosePlan(all, sort, limit + 1), sort, order, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const next = rows.length > limit && last ? positionAfter(last, sort) : resume;
    return { items: page.map(toInstallation), nextCursor: next ? encodeCursor({ sort, order, ...next }) : null };
  }

  /**
   * Every matching installation, `pageSize` rows per query, by keyset: no statement stays open
   * between pages (better-sqlite3 allows nothing else on a connection while an iterator is open,
   * and the webhook writer shares it), and memory holds one page. Each page is read on its own:
   * a row that changes during the walk can show in its old position, its new one, or neither.
   * A page can be empty (the walk budget ran out first): the caller gets it anyway, so it can
   * let other work run before asking for the next one.
   */
  function* pages(query: InstallationFilters & InstallationOrdering, pageSize = PAGE_WALK_ROWS): Generator<Installation[]> {
    const sort = query.sort ?? 'installedAt';
    const order = query.order ?? 'desc';
    const all = terms(query);
    const plan = choosePlan(all, sort, pageSize);
    let after: Position | null = null;
    for (;;) {
      const { rows, resume } = fetchRows(all, plan, sort, order, after, pageSize);
      if (rows.length > 0 || resume) yield rows.map(toInstallation);
      const last = rows[rows.length - 1];
      if (rows.length === pageSize && last) after = positionAfter(last, sort);
      else if (resume) after = resume;
      else return;
    }
  }

  function get(instanceId: string) {
    const row = db.select().from(installations).where(eq(installations.instanceId, instanceId)).get();
    if (!row) return null;
    return { installation: toInstallation(row), events: history(instanceId) };
  }

  /** Every event stored for the instance, oldest first by iat. */
  function history(instanceId: string) {
    return db
      .select({
        eventType: installationEvents.eventType,
        issuedAt: installationEvents.issuedAt,
        receivedAt: installationEvents.receivedAt,
        payload: installationEvents.payload,
        outcome: deliveries.outcome,
      })
      .from(installationEvents)
      .innerJoin(deliveries, eq(deliveries.id, installationEvents.deliveryId))
      .where(eq(installationEvents.instanceId, instanceId))
      .orderBy(asc(installationEvents.issuedAt), asc(installationEvents.id))
      .all()
      .map((e) => ({
        eventType: e.eventType,
        issuedAt: iso(e.issuedAt),
        receivedAt: iso(e.receivedAt),
        outcome: e.outcome,
        data: e.payload.data,
        identity: e.payload.identity ?? null,
      }));
  }

  /** Installations per status, from the trigger-maintained counters (no scan of a million rows). */
  function counts() {
    const rows = db.select().from(registryCounters).where(like(registryCounters.name, 'installations.%')).all();
    const byStatus = Object.fromEntries(rows.map((r) => [r.name.slice('installations.'.length), r.value]));
    return { active: byStatus.active ?? 0, removed: byStatus.removed ?? 0 };
  }

  return { list, pages, get, history, counts, daily: createDailyStats(db, { clock: options.clock ?? systemClock }) };
}

export type InstallationQueries = ReturnType<typeof createInstallationQueries>;
