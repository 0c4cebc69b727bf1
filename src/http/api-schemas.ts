import { z } from 'zod';
import { TOKEN_HANDOUT_OUTCOMES, type TokenHandoutPage } from '../audit/token-handouts.ts';
import { CHANGE_TYPES } from '../changes/model.ts';
import type { ChangePage } from '../changes/feed.ts';
import type { Change } from '../changes/serialize.ts';
import type { OutboxJobStatus } from '../outbox/model.ts';
import type { PushEndpointStatus } from '../outbox/push.ts';
import { ERROR_STATUS, type ErrorBody, type ErrorCode } from '../errors.ts';
import type { DailyStats } from '../installations/daily-stats.ts';
import type { InstallationQueries } from '../installations/queries.ts';
import type { InstallationPage } from '../installations/query-schemas.ts';
import type { Installation } from '../installations/serialize.ts';

/**
 * zod schemas of the HTTP API's response bodies, for the route definitions next to each handler
 * (createRoute; the document is generated from them, src/http/openapi.ts). The handlers build
 * their bodies themselves (toInstallation, queries, …); `app.openapi` types each handler's
 * answer by its route's schemas, and the type checks at the end of this file fail the build when
 * a body and its schema differ at all. `.meta({ id })` makes each one a named component
 * (zod-to-openapi reads zod 4's metadata).
 */

const isoTime = (description?: string) => z.iso.datetime().meta(description ? { description } : {});
const isoTimeOrNull = (description?: string) =>
  isoTime()
    .nullable()
    .meta(description ? { description } : {});

export const installationSiteSchema = z
  .object({
    siteId: z.string().nullable(),
    accountId: z.string().nullable(),
    name: z.string().nullable(),
    url: z.string().nullable(),
    syncedAt: isoTimeOrNull("When the site was last read from Wix's Get App Instance."),
  })
  .meta({ id: 'InstallationSite', description: 'What is known of the site: from the webhook and from Get App Instance.' });

export const installationPlanSchema = z
  .object({
    isFree: z.boolean().nullable().meta({ description: 'From Get App Instance; null until Wix has described the instance.' }),
    vendorProductId: z.string().nullable(),
    cycle: z.string().nullable().meta({ description: 'The billing cycle Wix names, e.g. MONTHLY or YEARLY.' }),
    expiresOn: z.string().nullable(),
    autoRenewing: z.boolean().nullable(),
    changedAt: isoTimeOrNull('When a plan event last changed the plan.'),
  })
  .meta({ id: 'InstallationPlan', description: 'The plan, from the paid-plan events and Get App Instance.' });

export const installationSchema = z
  .object({
    instanceId: z.string(),
    appId: z.string().nullable(),
    status: z.enum(['active', 'removed']),
    installedAt: isoTime(),
    installedAtInferred: z.boolean().meta({
      description:
        "true when installedAt is not an AppInstalled's time: the first event seen (no AppInstalled received), or the registry's own check with Wix (import, reconciliation).",
    }),
    removedAt: isoTimeOrNull(),
    updatedAt: isoTime(),
    firstSeenAt: isoTime(),
    lastEventAt: isoTime(),
    originInstanceId: z.string().nullable(),
    configuredAt: isoTimeOrNull('When Wix accepted APP_FINISHED_CONFIGURATION for the current installation.'),
    checkedAt: isoTimeOrNull('When Wix last confirmed the installation by issuing a token for it (import, reconciliation); null if never.'),
    site: installationSiteSchema,
    plan: installationPlanSchema,
    appVersion: z.string().nullable(),
  })
  .meta({
    id: 'Installation',
    description: 'One app instance: its current installation, site and plan. Times are ISO-8601 in UTC.',
    example: {
      instanceId: '3bbcabc7-8f7e-4f4e-9c36-5d3ad6c1f0a1',
      appId: '5bc2062d-1e7b-4b4b-a0c9-0a6c7e7b6f11',
      status: 'active',
      installedAt: '2026-11-22T10:00:00.000Z',
      installedAtInferred: false,
      removedAt: null,
      updatedAt: '2026-11-22T10:00:01.234Z',
      firstSeenAt: '2026-11-22T10:00:00.000Z',
      lastEventAt: '2026-11-22T10:00:00.000Z',
      originInstanceId: '07864c16-3f0e-4ad2-9a53-0e0d6c7c1b2e',
      configuredAt: '2026-11-22T10:00:01.234Z',
      checkedAt: null,
      site: { siteId: 'a1b2c3', accountId: 'd4e5f6', name: 'My Site', url: 'https://example.com', syncedAt: '2026-11-22T10:00:01.500Z' },
      plan: {
        isFree: false,
        vendorProductId: 'premium',
        cycle: 'YEARLY',
        expiresOn: '2027-11-22T10:00:00Z',
        autoRenewing: true,
        changedAt: '2026-11-22T10:00:00.000Z',
      },
      appVersion: '1.4.0',
    },
  });

export const eventSchema = z
  .object({
    eventType: z.string().meta({
      description:
        "Wix's eventType, e.g. AppInstalled, AppRemoved, PaidPlanPurchased (unknown types are kept too), or one of the registry's own checks with Wix: Reconciled.Removed, Reconciled.Installed, Reconciled.SiteUpdated, Imported.Installed, Imported.Removed.",
    }),
    issuedAt: isoTime('The JWT iat.'),
    receivedAt: isoTime(),
    outcome: z.enum(['applied', 'stale', 'ignored']).meta({
      description:
        'applied: it changed the installation; stale: it changed nothing visible; ignored: an event type the registry does not act on.',
    }),
    data: z.record(z.string(), z.unknown()).meta({ description: "The event's inner data, as Wix sent it." }),
    identity: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'Event', description: "One verified delivery in an installation's history (oldest first by iat)." });

export const installationPageSchema = z
  .object({
    items: z.array(installationSchema),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as `cursor` (with the same sort and order) for the next page; null on the last page.' }),
  })
  .meta({ id: 'InstallationPage' });

export const installationDetailSchema = z
  .object({ installation: installationSchema, events: z.array(eventSchema) })
  .meta({ id: 'InstallationDetail' });

export const accessTokenSchema = z
  .object({
    accessToken: z.string().meta({ description: "A Wix access token for the instance (the app's identity)." }),
    expiresAt: isoTime(),
  })
  .meta({ id: 'AccessToken' });

export const pushEndpointStatusSchema = z
  .object({
    endpoint: z.string().meta({
      description:
        'Scheme, host and path of one of REGISTRY_EVENT_ENDPOINTS; user info and query are never shown (`(…)` marks that the URL has them).',
    }),
    active: z.boolean().meta({ description: 'false: no longer in REGISTRY_EVENT_ENDPOINTS (its pending pushes were cancelled).' }),
    lastSuccessAt: isoTimeOrNull('When it last answered 2xx.'),
    lastFailureAt: isoTimeOrNull(),
    lastError: z.string().nullable(),
    consecutiveFailures: z.int().min(0).meta({ description: 'Failed attempts since the last success.' }),
    failedAttempts: z.int().min(0),
    delivered: z.int().min(0).meta({ description: 'Changes it accepted.' }),
    pending: z.int().min(0).meta({ description: 'Pushes waiting: due, backing off, or behind an earlier change of the same instance.' }),
    running: z.int().min(0),
    dead: z
      .int()
      .min(0)
      .meta({ description: 'Pushes that gave up after the retry horizon: `wix-registry outbox retry --all-dead` sends them again.' }),
  })
  .meta({ id: 'PushEndpointStatus', description: 'One push endpoint: its health and its pushes.' });

export const statsSchema = z
  .object({
    installations: z.object({ active: z.int().min(0), removed: z.int().min(0) }),
    outbox: z.object({
      pending: z.int().min(0),
      running: z.int().min(0),
      done: z.int().min(0),
      dead: z.int().min(0),
      cancelled: z.int().min(0),
    }),
    push: z
      .object({ endpoints: z.array(pushEndpointStatusSchema) })
      .meta({ description: 'Each endpoint changes are pushed to (REGISTRY_EVENT_ENDPOINTS).' }),
  })
  .meta({ id: 'Stats', description: 'Installations per status, outbox jobs per state (pushes included), and push endpoint health.' });

export const changeSchema = z
  .object({
    id: z.string().meta({ description: 'Unique, never reused: receivers dedupe by it (it is also the pushed webhook-id).' }),
    type: z.enum(CHANGE_TYPES).meta({
      description:
        'installed: a first install, or a reinstall after a removal (also a correction of when the installation began); removed; plan_changed: a plan event changed the plan; ' +
        'site_updated: something learned from Get App Instance changed; configured: Wix accepted APP_FINISHED_CONFIGURATION (again after each reinstall). Later versions may add types: ignore unknown ones.',
    }),
    instanceId: z.string(),
    occurredAt: isoTime("The Wix event's iat; for what the registry learned itself (configured, site_updated), when it learned it."),
    recordedAt: isoTime('When the registry committed it.'),
    installation: installationSchema.meta({ description: 'The installation right after the change.' }),
  })
  .meta({ id: 'Change', description: 'One visible transition of an installation, in commit order.' });

export const changePageSchema = z
  .object({
    items: z.array(changeSchema),
    nextCursor: z
      .string()
      .meta({ description: 'Always a string: pass it back as `after` to continue exactly where this page ended (also across restarts).' }),
  })
  .meta({ id: 'ChangePage' });

const utcDate = z.iso.date();

export const dailyStatsSchema = z
  .object({
    from: utcDate.meta({ description: 'The first day (UTC), inclusive.' }),
    to: utcDate.meta({ description: 'The day after the last one in `days` (exclusive).' }),
    days: z.array(
      z
        .object({
          date: utcDate,
          installs: z.int().min(0).meta({ description: 'AppInstalled events issued that day.' }),
          removals: z.int().min(0).meta({ description: 'AppRemoved events issued that day.' }),
          net: z.int().meta({ description: 'installs − removals.' }),
          active: z.int().meta({ description: 'Installations active at the end of the day (approximate: see daily-stats.ts).' }),
        })
        .meta({ id: 'DailyStatsDay' }),
    ),
    churn: z
      .object({
        removedWithin1Day: z.int().min(0),
        removedWithin7Days: z.int().min(0),
        removedWithin30Days: z.int().min(0),
        installs: z.int().min(0).meta({ description: 'Installs in [from, to): the sum of days[].installs.' }),
      })
      .meta({ description: 'Of the installs in the window, how many were removed within 1, 7 or 30 days.' }),
  })
  .meta({ id: 'DailyStats', description: 'Installation trends per UTC day.' });

export const appInstanceSchema = z.object({ installation: installationSchema }).meta({ id: 'AppInstance' });

export const webhookAckSchema = z
  .object({
    status: z.enum(['accepted', 'duplicate']).meta({
      description: 'accepted: verified and stored for the first time; duplicate: this exact JWT is already stored (a Wix resend).',
    }),
  })
  .meta({ id: 'WebhookAck' });

export const ERROR_CODES = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];

export const errorEnvelopeSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES).meta({ description: 'One of a closed set; each code has one HTTP status.' }),
      message: z.string().meta({ description: 'For people; a 5xx message says nothing about internals.' }),
      requestId: z.string().meta({ description: 'Also the X-Request-Id response header; the log line has the same id.' }),
    }),
  })
  .meta({ id: 'ErrorEnvelope', description: 'Every error, everywhere.' });

export const tokenHandoutSchema = z
  .object({
    id: z.int().min(1),
    requestedAt: isoTime(),
    apiKeyId: z.string().meta({ description: "The API key's fingerprint (`key_` and 12 hex digits of its SHA-256), never the key." }),
    instanceId: z.string(),
    outcome: z.enum(TOKEN_HANDOUT_OUTCOMES).meta({
      description:
        'issued: a token was handed out; unknown_instance (404), removed_instance (410): refused without asking Wix; refused: Wix refused one; failed: Wix or the database failed.',
    }),
    tokenExpiresAt: isoTimeOrNull('When the token handed out expires (issued only).'),
    requestId: z.string().nullable().meta({ description: "The request's X-Request-Id: the request log's line for it has the same id." }),
  })
  .meta({ id: 'TokenHandout', description: 'One access-token request, as the audit recorded it (never the token).' });

export const tokenHandoutPageSchema = z
  .object({
    items: z.array(tokenHandoutSchema),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as `cursor` (with the same filters) for the next page; null on the last page.' }),
  })
  .meta({ id: 'TokenHandoutPage' });

export const sessionsEndedSchema = z
  .object({ ended: z.int().min(0).meta({ description: 'Dashboard sessions ended.' }) })
  .meta({ id: 'SessionsEnded' });

export const healthSchema = z.object({ status: z.enum(['ok', 'ready', 'starting']) }).meta({
  id: 'Health',
  description:
    '/healthz: ok. /readyz: ready (200), or starting (503) before the database is open and migrated and from the start of shutdown.',
});

// ---------------------------------------------------------------------------------------------
// The bodies the handlers build must be exactly these shapes: a mismatch fails `tsc`.

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Detail = NonNullable<Awaited<ReturnType<InstallationQueries['get']>>>;

const shapeChecks: [
  Equal<z.output<typeof installationSchema>, Installation>,
  Equal<z.output<typeof installationPageSchema>, InstallationPage>,
  Equal<z.output<typeof eventSchema>, Detail['events'][number]>,
  Equal<z.output<typeof installationDetailSchema>, Detail>,
  Equal<z.output<typeof dailyStatsSchema>, DailyStats>,
  Equal<keyof z.output<typeof statsSchema>['outbox'], OutboxJobStatus>,
  Equal<z.output<typeof statsSchema>['installations'], Awaited<ReturnType<InstallationQueries['counts']>>>,
  Equal<z.output<typeof errorEnvelopeSchema>, ErrorBody>,
  Equal<z.output<typeof tokenHandoutPageSchema>, TokenHandoutPage>,
  Equal<z.output<typeof changeSchema>, Change>,
  Equal<z.output<typeof changePageSchema>, ChangePage>,
  Equal<z.output<typeof pushEndpointStatusSchema>, PushEndpointStatus>,
] = [true, true, true, true, true, true, true, true, true, true, true, true];
void shapeChecks;
