/**
 * Pushing changes to the app's own services (REGISTRY_EVENT_ENDPOINTS): each change is POSTed to
 * each endpoint as a Standard Webhooks message, signed with REGISTRY_EVENT_SECRET by the
 * `standardwebhooks` package (the reference implementation receivers verify with), from a
 * push_change outbox job: at least once, in order per instance and endpoint, retried with the
 * outbox's backoff. What a change looks like is the change feed's business (src/changes/).
 */
import { Webhook } from 'standardwebhooks';
import type { Clock } from '../clock.ts';
import type { ChangeRecord } from '../changes/model.ts';
import type { PushEndpointHealth } from '../db/store.ts';
import { toPushPayload } from '../changes/serialize.ts';
import { parseRetryAfter } from '../wix/errors.ts';
import { JobFailure } from './failure.ts';
import type { JobHandler } from './jobs.ts';

/** One attempt (connect, send, answer) gets this long; then it counts as failed and is retried. */
export const PUSH_REQUEST_TIMEOUT_MS = 10_000;
/**
 * Attempts in flight per endpoint. Each endpoint has its own worker and its own claims, so a slow
 * or failing endpoint holds only its own slots: never the Wix jobs', nor another endpoint's.
 */
export const PUSH_CONCURRENCY_PER_ENDPOINT = 4;
/** What the registry says it is. */
const USER_AGENT = 'wix-registry (change push; Standard Webhooks)';

export interface PushOptions {
  /** REGISTRY_EVENT_SECRET: `whsec_<base64>`. */
  secret: string;
  /** The change a job pushes (a read, by position). */
  change(position: number): Promise<ChangeRecord | null>;
  clock: Clock;
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
}

/**
 * The push_change handler: signs the change at the moment of each attempt (webhook-timestamp is
 * the send time, so receivers can refuse old replays) and POSTs it to the job's endpoint. A 2xx
 * is done; anything else (another status, a redirect, no answer within the timeout, a dropped
 * connection) is a failure to retry, honouring Retry-After: the contract retries until the
 * endpoint answers 2xx, and the outbox's horizon ends it as dead.
 */
export function createPushHandler(options: PushOptions): JobHandler {
  const webhook = new Webhook(options.secret);
  const send = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? PUSH_REQUEST_TIMEOUT_MS;
  return async (job) => {
    if (job.endpoint === null || job.changePosition === null) throw new JobFailure('not a push job', false);
    const change = await options.change(job.changePosition);
    if (!change) throw new JobFailure(`change at position ${job.changePosition} not found`, false);
    const body = JSON.stringify(toPushPayload(change));
    const sentAt = new Date(options.clock.now());
    const { url, authorization } = splitCredentials(job.endpoint);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': change.id,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': webhook.sign(change.id, sentAt, body),
      ...(authorization ? { authorization } : {}),
    };
    let response: Response;
    try {
      response = await send(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const name = (err as { name?: string } | null)?.name;
      const why =
        name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${timeoutMs} ms` : 'no answer (connection refused or dropped)';
      throw new JobFailure(`${describeEndpoint(job.endpoint)}: ${why}`, true, undefined, { cause: err });
    }
    // The answer's body means nothing to us; not reading it frees the connection.
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return;
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), options.clock.now());
    throw new JobFailure(`${describeEndpoint(job.endpoint)}: answered ${response.status}`, true, retryAfterMs);
  };
}

/**
 * fetch refuses a URL with user info (`https://user:pass@host/…`), which is how an endpoint behind
 * Basic authentication is usually written: the credentials travel as the Authorization header instead,
 * as curl sends them.
 */
function splitCredentials(endpoint: string): { url: string; authorization: string | null } {
  const parsed = new URL(endpoint);
  if (!parsed.username && !parsed.password) return { url: endpoint, authorization: null };
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.href, authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/**
 * An endpoint as logs, the CLI, /v1/stats and the dashboard show it: scheme, host and path. A
 * URL's user info, query and fragment may hold a credential (`https://user:token@…`, `?key=…`),
 * so they are never shown.
 */
export function describeEndpoint(url: string): string {
  try {
    const parsed = new URL(url);
    const hidden = parsed.username || parsed.password || parsed.search || parsed.hash;
    return `${parsed.origin}${parsed.pathname}${hidden ? ' (…)' : ''}`;
  } catch {
    return '(not a URL)';
  }
}

/** An endpoint's health as /v1/stats and the dashboard show it (times ISO-8601, the URL described, not shown whole). */
export function toPushEndpointHealth(health: PushEndpointHealth) {
  const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    endpoint: describeEndpoint(health.url),
    active: health.active,
    lastSuccessAt: isoOrNull(health.lastSuccessAt),
    lastFailureAt: isoOrNull(health.lastFailureAt),
    lastError: health.lastError,
    consecutiveFailures: health.consecutiveFailures,
    failedAttempts: health.failedAttempts,
    delivered: health.delivered,
    pending: health.pending,
    running: health.running,
    dead: health.dead,
  };
}

export type PushEndpointStatus = ReturnType<typeof toPushEndpointHealth>;
