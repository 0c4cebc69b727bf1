import { z } from 'zod';
import type { InstallationStatus } from './model.ts';
import type { Installation } from './serialize.ts';

export type { InstallationStatus };

/**
 * What developers may ask of installations, and how their input is read: the types, limits and
 * zod schemas shared by the HTTP API, the CLI and the dashboard. Engines receive the parsed form.
 */

export const LIST_LIMIT_DEFAULT = 50;
export const LIST_LIMIT_MAX = 500;
export const SEARCH_MAX_LENGTH = 200;
export const INSTALLATION_STATUSES = ['active', 'removed'] as const;
export const INSTALLATION_SORTS = ['installedAt', 'removedAt', 'updatedAt'] as const;
export const SORT_ORDERS = ['desc', 'asc'] as const;

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

/** One page of GET /v1/installations. */
export interface InstallationPage {
  items: Installation[];
  nextCursor: string | null;
}

/**
 * A place in a walk: the last row's sort key and instance id. Under sort=removedAt a row with
 * no removal time has key null, and its installedAt places it.
 */
export interface Position {
  key: number | null;
  instanceId: string;
  installedAt?: number | undefined;
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

/** An ISO-8601 date or date-time with a zone (parseIsoInstant), as epoch ms; shared with the token audit's `since` and `until`. */
export const isoInstant = z.string().transform((text, ctx) => {
  const ms = parseIsoInstant(text);
  if (ms === null) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be an ISO-8601 date (2026-10-01, midnight UTC) or date-time with a zone (2026-10-01T12:00:00Z)',
    });
    return z.NEVER;
  }
  return ms;
});

/**
 * No stored instance id, site name, URL or product id holds a control character (webhooks with
 * one are refused), and PostgreSQL text cannot even hold U+0000: a filter with one is malformed.
 */
const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f]*$/;
const noControlCharacters = 'has a control character';

/** A query parameter's description in the OpenAPI document (zod-to-openapi reads `param` from the metadata). */
export const paramDescription = (description: string) => ({ param: { description } });

const filterShape = {
  status: z.enum(INSTALLATION_STATUSES).optional().meta(paramDescription('Only installations in this state.')),
  plan: z
    .string()
    .min(1)
    .max(200)
    .regex(NO_CONTROL_CHARACTERS, noControlCharacters)
    .optional()
    .meta(
      paramDescription(
        '`paid` (Wix says not free, or a paid-plan event named a product), `free` (every other one, including instances Wix has not described yet), or a `vendorProductId`.',
      ),
    ),
  installedFrom: isoInstant
    .optional()
    .meta(
      paramDescription(
        'Installed at or after this time (inclusive): an ISO-8601 date (`2026-10-01`, midnight UTC) or a date-time with a zone (`2026-10-01T12:00:00Z`).',
      ),
    ),
  installedTo: isoInstant
    .optional()
    .meta(paramDescription('Installed before this time (exclusive); same formats as `installedFrom`. Must be later than `installedFrom`.')),
  removedFrom: isoInstant.optional().meta(paramDescription('Removed at or after this time (inclusive); same formats as `installedFrom`.')),
  removedTo: isoInstant.optional().meta(paramDescription('Removed before this time (exclusive); must be later than `removedFrom`.')),
  q: z
    .string()
    .min(1)
    .max(SEARCH_MAX_LENGTH)
    .regex(NO_CONTROL_CHARACTERS, noControlCharacters)
    .optional()
    .meta(paramDescription('Case-insensitive (ASCII) substring of the site name, the site URL or the instance id.')),
};

const orderingShape = {
  sort: z
    .enum(INSTALLATION_SORTS)
    .default('installedAt')
    .meta(paramDescription('The sort key. Under `removedAt`, installations without a removal time come last.')),
  order: z.enum(SORT_ORDERS).default('desc').meta(paramDescription('Newest first (`desc`, the default) or oldest first.')),
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
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(LIST_LIMIT_MAX)
      .default(LIST_LIMIT_DEFAULT)
      .meta(paramDescription('Installations per page, 1–500.')),
    cursor: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .meta(paramDescription("Opaque: the previous page's `nextCursor`, sent with the same `sort` and `order`.")),
  })
  .strict()
  .superRefine(checkRanges);

export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** GET /v1/installations/export and `installs export`: the filters, an order, no paging. */
export const installationExportQuerySchema = z
  .object({
    ...filterShape,
    ...orderingShape,
    format: z
      .enum(EXPORT_FORMATS)
      .default('ndjson')
      .meta(
        paramDescription(
          "`ndjson` (one Installation as JSON per line, every value exact) or `csv` (RFC 4180, flat columns, a header row; text that starts like a formula gets a leading `'`).",
        ),
      ),
  })
  .strict()
  .superRefine(checkRanges);

export type InstallationExportQuery = z.output<typeof installationExportQuerySchema>;
