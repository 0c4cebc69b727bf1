import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { StorageUnavailableError } from '../db/store.ts';
import { AppError } from '../errors.ts';
import { webhookAckSchema } from '../http/api-schemas.ts';
import { createOpenApiRoutes } from '../http/openapi.ts';
import { errorResponses, ok } from '../http/openapi-parts.ts';
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

/** The body is read by the handler itself (size limit first), so the definition declares it without validating it. */
const receiveWixWebhook = createRoute({
  method: 'post',
  path: '/wix',
  operationId: 'receiveWixWebhook',
  tags: ['Webhooks'],
  summary: 'Receive a Wix webhook (App Installed, App Removed, plan and other app-instance events)',
  description:
    "The body is the raw JWT Wix sends (any content type). In order: size limit, signature (RS256 with the app's public key), envelope, one durable write. " +
    'Nothing is written for a delivery that fails any step, and Wix is never called while the request is open. Every `200` means the delivery is on disk.',
  request: {
    body: {
      required: true,
      description: 'The signed JWT, as Wix sends it.',
      content: { 'text/plain': { schema: z.string().meta({ description: 'A JWT (RS256).' }) } },
    },
  },
  responses: {
    200: ok(
      '`accepted`: verified and stored for the first time (any event type, known or not). `duplicate`: this exact JWT is already stored (a Wix resend).',
      webhookAckSchema,
    ),
    ...errorResponses({
      400: '`malformed_envelope`: verified, but `data` is not the JSON string Wix sends, `eventType` or `instanceId` is missing, `iat` is missing or not a representable time, or the inner `data` / `identity` are not JSON strings of objects.',
      401: '`invalid_signature`: does not verify: wrong key, altered payload, `alg` other than RS256, expired (`exp`, 60 s tolerance), not yet valid (`nbf`), a signature not in canonical base64url, not a JWT, empty body.',
      413: '`payload_too_large`: body over 64 KiB (checked before anything else).',
      503: '`unavailable`: the database cannot take the write (locked, read-only, full): nothing was stored, Wix resends.',
    }),
  },
});

/**
 * POST /webhooks/wix. Order matters: size limit, then signature, then envelope, then one
 * durable write; nothing is written for a delivery that fails any step, and Wix is never called
 * while the request is open (Wix gives up after 1250 ms and resends).
 */
export function createWebhookRoutes(deps: WebhookRouteDeps) {
  const routes = createOpenApiRoutes();
  routes.openapi(receiveWixWebhook, async (c) => {
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
    return c.json({ status }, 200);
  });
  return routes;
}
