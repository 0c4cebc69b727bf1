import { prometheus } from '@hono/prometheus';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';

/**
 * The registry's Prometheus metrics (issue 12), on a prom-client Registry of its own per app (so
 * two registries in one process, or two tests, never share a counter). Events are counted through
 * the observe* hooks, called where they happen; values that live in the database are read at
 * scrape time through injected async collectors, never through a database handle. The README's
 * "Metrics" section describes each one for dashboards.
 */

export const METRIC_PREFIX = 'wix_registry_';

/** How a POST /webhooks/wix ended: the two acknowledgements, then each refusal's error code. */
export const WEBHOOK_OUTCOMES = [
  'accepted',
  'duplicate',
  'invalid_signature',
  'malformed_envelope',
  'payload_too_large',
  'unavailable',
  'request_timeout',
  'internal',
] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

/** Seconds; dense around Wix's 1250 ms budget, so the share answered in time reads straight off `le="1.25"`. */
export const WEBHOOK_LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 5];
/** Deliveries per group commit; the committer takes at most 512 at once. */
export const COMMIT_BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/** Token requests to Wix (the broker's calls to /oauth2/token), by how they ended. */
export const WIX_TOKEN_REQUEST_OUTCOMES = ['ok', 'refused', 'unavailable', 'network'] as const;
export type WixTokenRequestOutcome = (typeof WIX_TOKEN_REQUEST_OUTCOMES)[number];
/** POST /v1/installations/:id/access-token, by the outcome the audit records. */
export const TOKEN_HANDOUT_OUTCOMES = ['issued', 'unknown_instance', 'removed_instance', 'refused', 'failed'] as const;
export type TokenHandoutOutcome = (typeof TOKEN_HANDOUT_OUTCOMES)[number];

export interface OutboxSnapshot {
  /** Jobs per state, all kinds together (every state, zeros included). */
  byState: Record<string, number>;
  /**
   * Open (pending, running) and dead jobs per kind (zeros included): what queues up or fails.
   * Optional: a store that cannot count them cheaply leaves the metric out.
   */
  openByKind?: { kind: string; state: string; count: number }[];
  /** runAfter (epoch ms) of the pending job that has been due longest, or null when none is due. */
  oldestDueAt: number | null;
}

/** One push endpoint, as the lag metric needs it. */
export interface PushLagSnapshot {
  /** Scheme, host and path only (describeEndpoint): never a credential of the URL. */
  endpoint: string;
  /** When the oldest change not yet delivered there was enqueued; null: it has everything. */
  oldestUndeliveredAt: number | null;
}

/** Reads from the database at scrape time, through whatever the storage layer offers. */
export interface MetricsCollectors {
  installationCounts: () => Promise<{ active: number; removed: number }>;
  outbox: () => Promise<OutboxSnapshot>;
  /** The active push endpoints (REGISTRY_EVENT_ENDPOINTS). */
  pushEndpoints?: () => Promise<PushLagSnapshot[]>;
}

export interface MetricsOptions {
  collectors: MetricsCollectors;
  clock: Clock;
  logger?: Logger;
}

export function createMetrics(options: MetricsOptions) {
  const registry = new Registry();
  const { clock, collectors, logger } = options;

  const collectionFailures = new Counter({
    name: `${METRIC_PREFIX}metrics_collection_failures_total`,
    help: 'Scrapes in which reading a value from the database failed; that metric is left out of the scrape.',
    labelNames: ['collector'],
    registers: [registry],
  });
  /** A collector that fails leaves its gauge empty for this scrape rather than failing the whole scrape. */
  const safely = async (name: string, gauges: Gauge[], read: () => Promise<void>) => {
    try {
      await read();
    } catch (err) {
      for (const gauge of gauges) gauge.reset();
      collectionFailures.inc({ collector: name });
      logger?.warn({ err, collector: name }, 'metrics: a collector failed');
    }
  };

  const webhooks = new Counter({
    name: `${METRIC_PREFIX}webhooks_total`,
    help: 'POST /webhooks/wix requests by outcome: accepted, duplicate, or the refusal (error code).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of WEBHOOK_OUTCOMES) webhooks.inc({ outcome }, 0);
  const webhookLatency = new Histogram({
    name: `${METRIC_PREFIX}webhook_duration_seconds`,
    help: "Time from a webhook request reaching the app to its answer (Wix's budget is 1.25 s).",
    buckets: WEBHOOK_LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  const commitBatches = new Histogram({
    name: `${METRIC_PREFIX}group_commit_batch_size`,
    help: 'Writes (deliveries, audit rows) committed together in one transaction.',
    buckets: COMMIT_BATCH_BUCKETS,
    registers: [registry],
  });
  const wixTokenRequests = new Counter({
    name: `${METRIC_PREFIX}wix_token_requests_total`,
    help: 'Access-token requests the registry made to Wix, by outcome.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of WIX_TOKEN_REQUEST_OUTCOMES) wixTokenRequests.inc({ outcome }, 0);
  const tokenHandouts = new Counter({
    name: `${METRIC_PREFIX}token_handouts_total`,
    help: 'Access tokens asked of the registry (POST /v1/installations/:id/access-token), by outcome.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of TOKEN_HANDOUT_OUTCOMES) tokenHandouts.inc({ outcome }, 0);

  const installations = new Gauge({
    name: `${METRIC_PREFIX}installations`,
    help: 'Installations by status.',
    labelNames: ['status'],
    registers: [registry],
  });
  const outboxJobs = new Gauge({
    name: `${METRIC_PREFIX}outbox_jobs`,
    help: 'Outbox jobs by state: pending, running, done, dead, cancelled.',
    labelNames: ['state'],
    registers: [registry],
  });
  const outboxJobsByKind = new Gauge({
    name: `${METRIC_PREFIX}outbox_open_jobs`,
    help: 'Outbox jobs still open (pending, running) or dead, by kind and state.',
    labelNames: ['kind', 'state'],
    registers: [registry],
  });
  const oldestDue = new Gauge({
    name: `${METRIC_PREFIX}outbox_oldest_due_job_age_seconds`,
    help: 'How long the longest-waiting due outbox job has been due (0 when none is).',
    registers: [registry],
  });

  const pushLag = new Gauge({
    name: `${METRIC_PREFIX}push_lag_seconds`,
    help: 'Per push endpoint: how long the oldest change not yet delivered there has waited (0 when it has every change).',
    labelNames: ['endpoint'],
    registers: [registry],
  });

  /** Reads the database-backed gauges; before each scrape, so a failure shows in the same scrape. */
  const refreshFromDatabase = () =>
    Promise.all([
      safely('installations', [installations], async () => {
        const counts = await collectors.installationCounts();
        installations.set({ status: 'active' }, counts.active);
        installations.set({ status: 'removed' }, counts.removed);
      }),
      safely('outbox', [outboxJobs, outboxJobsByKind, oldestDue], async () => {
        const snapshot = await collectors.outbox();
        outboxJobs.reset();
        for (const [state, count] of Object.entries(snapshot.byState)) outboxJobs.set({ state }, count);
        outboxJobsByKind.reset();
        for (const row of snapshot.openByKind ?? []) outboxJobsByKind.set({ kind: row.kind, state: row.state }, row.count);
        oldestDue.set(snapshot.oldestDueAt === null ? 0 : Math.max(0, (clock.now() - snapshot.oldestDueAt) / 1000));
      }),
      safely('push', [pushLag], async () => {
        const endpoints = (await collectors.pushEndpoints?.()) ?? [];
        pushLag.reset();
        for (const e of endpoints) {
          pushLag.set(
            { endpoint: e.endpoint },
            e.oldestUndeliveredAt === null ? 0 : Math.max(0, (clock.now() - e.oldestUndeliveredAt) / 1000),
          );
        }
      }),
    ]);

  // Request counts and durations by route (the route pattern, never the raw path: bounded label values).
  const http = prometheus({ registry, prefix: METRIC_PREFIX });
  // Process metrics (CPU, memory, event-loop lag, GC) start with the first scrape: a registry that
  // is never scraped, like each one a test builds, runs no event-loop monitor.
  let processMetricsStarted = false;

  return {
    registry,
    contentType: registry.contentType,
    /** Middleware counting every request by method, route and status. */
    requestMetrics: http.registerMetrics,
    /** The text exposition of every metric. */
    async render(): Promise<string> {
      if (!processMetricsStarted) {
        processMetricsStarted = true;
        collectDefaultMetrics({ register: registry });
      }
      await refreshFromDatabase();
      return registry.metrics();
    },
    observeWebhook(outcome: WebhookOutcome, seconds: number): void {
      webhooks.inc({ outcome });
      webhookLatency.observe(seconds);
    },
    /** Called by the storage layer after each group commit, with the number of writes it held. */
    observeCommitBatch(size: number): void {
      commitBatches.observe(size);
    },
    /** Called by the token broker after each token request to Wix. */
    observeWixTokenRequest(outcome: WixTokenRequestOutcome): void {
      wixTokenRequests.inc({ outcome });
    },
    /** Called once per token handout, with the outcome its audit row records. */
    observeTokenHandout(outcome: TokenHandoutOutcome): void {
      tokenHandouts.inc({ outcome });
    },
  };
}

export type RegistryMetrics = ReturnType<typeof createMetrics>;
