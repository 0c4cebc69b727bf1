import { Hono } from 'hono';
import { StorageUnavailableError } from '../db/store.ts';
import { AppError } from '../errors.ts';
import type { AppEnv } from '../http/context.ts';
import { readTextBody } from '../http/raw-body.ts';
import type { IngestStatus, VerifiedDelivery } from '../installations/model.ts';
import { parseWixEnvelope } from './envelope.ts';
import { VerificationError, type VerifiedJwt } from './verify.ts';

/** Wix webhooks are a few KiB; anything far larger is not from Wix. */
export const WEBHOOK_MAX_BODY_BYTES = 64 * 1024;

export interface WebhookRouteDeps {
  verifyJwt: (token: string) => VerifiedJwt;
  ingest: (delivery: VerifiedDelivery) => Promise<IngestStatus>;
}

/**
 * POST /webhooks/wix. Order matters: size limit, then signature, then envelope, then one
 * durable write; nothing is written for a delivery that fails any step, and Wix is never called
 * while the request is open (Wix gives up after 1250 ms and resends).
 */
export function createWebhookRoutes(deps: WebhookRouteDeps) {
  const routes = new Hono<AppEnv>();
  routes.post('/wix', async (c) => {
    const jwt = (await readTextBody(c, WEBHOOK_MAX_BODY_BYTES)).trim();
    if (jwt.length === 0) throw new AppError('invalid_signature', 'Empty body: expected a signed JWT');
    let verified: VerifiedJwt;
    try {
      verified = deps.verifyJwt(jwt);
    } catch (err) {
      if (err instanceof VerificationError) {
        throw new AppError('invalid_signature', 'Webhook signature could not be verified', { logContext: { reason: err.message } });
      }
      throw err;
    }
    const event = parseWixEnvelope(verified.claims);
    let status;
    try {
      status = await deps.ingest({ jwt, event });
    } catch (err) {
      if (err instanceof StorageUnavailableError) {
        throw new AppError('unavailable', 'Storage is unavailable; the delivery was not stored, resend later', { cause: err });
      }
      throw err;
    }
    c.set('logFields', { eventType: event.eventType, instanceId: event.instanceId, delivery: status });
    return c.json({ status });
  });
  return routes;
}
