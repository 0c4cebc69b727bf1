import { z } from 'zod';
import type {
  TokenHandoutListRequest,
  TokenHandoutOutcome,
  TokenHandoutPosition,
  TokenHandoutRecord,
  TokenHandoutRowPage,
} from '../db/store.ts';
import { AppError } from '../errors.ts';
import { INSTANCE_ID_MAX_LENGTH } from '../http/instance-id.ts';
import { isoInstant, paramDescription } from '../installations/query-schemas.ts';
import { iso, isoOrNull } from '../installations/time.ts';

/**
 * The token audit, readable (issue 12): who was handed a Wix access token for which instance,
 * when, and what the answer was. The token API writes one row per request (src/wix/token-handouts.ts);
 * this reads them back, newest first, for GET /v1/audit/token-handouts and `wix-registry audit tokens`.
 */

export const AUDIT_LIMIT_DEFAULT = 50;
export const AUDIT_LIMIT_MAX = 500;
export const TOKEN_HANDOUT_OUTCOMES = [
  'issued',
  'unknown_instance',
  'removed_instance',
  'refused',
  'failed',
] as const satisfies readonly TokenHandoutOutcome[];
/** What apiKeyFingerprint() makes of a key: what logs and the audit show instead of the key. */
const KEY_FINGERPRINT = /^key_[0-9a-f]{12}$/;

/** GET /v1/audit/token-handouts and `audit tokens`: one schema for both. */
export const tokenHandoutQuerySchema = z
  .object({
    instanceId: z.string().min(1).max(INSTANCE_ID_MAX_LENGTH).optional().meta(paramDescription('Only requests for this instance.')),
    key: z
      .string()
      .regex(
        KEY_FINGERPRINT,
        'must be an API key fingerprint: key_ and 12 hex digits, as the audit and the request log show it (never the key itself)',
      )
      .optional()
      .meta(
        paramDescription(
          'Only requests made with this API key: its fingerprint (`key_` and 12 hex digits), as the audit and the request log show it. Never the key itself.',
        ),
      ),
    outcome: z.enum(TOKEN_HANDOUT_OUTCOMES).optional().meta(paramDescription('Only requests answered this way.')),
    since: isoInstant
      .optional()
      .meta(paramDescription('Requested at or after this time (inclusive): an ISO-8601 date (midnight UTC) or a date-time with a zone.')),
    until: isoInstant
      .optional()
      .meta(paramDescription('Requested before this time (exclusive); same formats as `since`. Must be later than `since`.')),
    limit: z.coerce.number().int().min(1).max(AUDIT_LIMIT_MAX).default(AUDIT_LIMIT_DEFAULT).meta(paramDescription('Rows per page, 1–500.')),
    cursor: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .meta(paramDescription("Opaque: the previous page's `nextCursor`, sent with the same filters.")),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.since !== undefined && value.until !== undefined && value.since >= value.until) {
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'must be later than since' });
    }
  });

export type TokenHandoutQuery = z.output<typeof tokenHandoutQuerySchema>;

/** One audit row as the API answers it. Never the token, never the key. */
export interface TokenHandout {
  id: number;
  requestedAt: string;
  /** The API key's fingerprint. */
  apiKeyId: string;
  instanceId: string;
  outcome: TokenHandoutOutcome;
  /** When the token handed out expires (issued only). */
  tokenExpiresAt: string | null;
  /** The request's X-Request-Id: the request log's line for it has the same id. */
  requestId: string | null;
}

export interface TokenHandoutPage {
  items: TokenHandout[];
  nextCursor: string | null;
}

/** Opaque to clients: base64url of the last row's time and id. */
function encodeAuditCursor(position: TokenHandoutPosition): string {
  return Buffer.from(JSON.stringify([position.requestedAt, position.id])).toString('base64url');
}

function decodeAuditCursor(cursor: string): TokenHandoutPosition {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = null;
  }
  if (!Array.isArray(value) || value.length !== 2 || !value.every((n) => Number.isSafeInteger(n))) {
    throw new AppError('bad_request', 'cursor: not a cursor this API returned');
  }
  return { requestedAt: value[0] as number, id: value[1] as number };
}

const toTokenHandout = (r: TokenHandoutRecord): TokenHandout => ({
  id: r.id,
  requestedAt: iso(r.requestedAt),
  apiKeyId: r.apiKeyId,
  instanceId: r.instanceId,
  outcome: r.outcome,
  tokenExpiresAt: isoOrNull(r.tokenExpiresAt),
  requestId: r.requestId,
});

/** Reads the audit through an injected store read (store.audit.tokenHandouts). */
export function createTokenAudit(deps: { page: (request: TokenHandoutListRequest) => Promise<TokenHandoutRowPage> }) {
  return {
    async list(query: TokenHandoutQuery): Promise<TokenHandoutPage> {
      const page = await deps.page({
        instanceId: query.instanceId,
        apiKeyId: query.key,
        outcome: query.outcome,
        since: query.since,
        until: query.until,
        limit: query.limit,
        after: query.cursor ? decodeAuditCursor(query.cursor) : null,
      });
      return { items: page.rows.map(toTokenHandout), nextCursor: page.next ? encodeAuditCursor(page.next) : null };
    },
  };
}

export type TokenAudit = ReturnType<typeof createTokenAudit>;
