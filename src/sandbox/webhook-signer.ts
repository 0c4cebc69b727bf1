import { randomUUID, sign, type KeyObject } from 'node:crypto';

/** Wix's own sample webhooks expire 3,600,000 s after issue (docs/wix-protocol.md §1). */
export const WIX_WEBHOOK_LIFETIME_SEC = 3_600_000;

export interface WebhookToSign {
  eventType: string;
  instanceId: string;
  /** Layer B: the event's own data. */
  data?: Record<string, unknown>;
  /** Layer C. */
  identity?: Record<string, unknown>;
  accountInfo?: Record<string, unknown>;
  /** Epoch seconds; defaults to now. */
  iat?: number;
}

/**
 * Signs a webhook the way Wix does: RS256 JWT whose `data` claim is a JSON string (layer A)
 * holding JSON strings for `data` and `identity`. Used by `wix-registry simulate` and the
 * sandbox; tests sign with an independent implementation (jose).
 */
export function signWixWebhook(privateKey: KeyObject, webhook: WebhookToSign, kid = 'sandbox'): string {
  const iat = webhook.iat ?? Math.floor(Date.now() / 1000);
  const layerA: Record<string, unknown> = {
    data: JSON.stringify(webhook.data ?? {}),
    instanceId: webhook.instanceId,
    eventType: webhook.eventType,
  };
  if (webhook.identity) layerA.identity = JSON.stringify(webhook.identity);
  if (webhook.accountInfo) layerA.accountInfo = webhook.accountInfo;
  const header = { kid, alg: 'RS256' };
  const claims = { data: JSON.stringify(layerA), iat, exp: iat + WIX_WEBHOOK_LIFETIME_SEC };
  const input = `${b64(header)}.${b64(claims)}`;
  const signature = sign('sha256', Buffer.from(input), privateKey).toString('base64url');
  return `${input}.${signature}`;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Realistic layer-B payloads for each event `simulate` can send. */
export function sampleEventData(eventType: string, appId: string): Record<string, unknown> {
  const now = new Date();
  const inAYear = new Date(now.getTime() + 365 * 86_400_000).toISOString();
  switch (eventType) {
    case 'AppInstalled':
      return { appId, originInstanceId: '' };
    case 'AppRemoved':
      return { appId };
    case 'PaidPlanPurchased':
      return {
        operationTimeStamp: now.toISOString(),
        vendorProductId: 'premium',
        cycle: 'YEARLY',
        expiresOn: inAYear,
        invoiceId: randomUUID(),
      };
    case 'PaidPlanChanged':
      return {
        operationTimeStamp: now.toISOString(),
        vendorProductId: 'business',
        cycle: 'MONTHLY',
        previousVendorProductId: 'premium',
        previousCycle: 'YEARLY',
      };
    case 'PaidPlanAutoRenewalCancelled':
      return {
        operationTimeStamp: now.toISOString(),
        vendorProductId: 'premium',
        cycle: 'YEARLY',
        cancelReason: 'USER_ACTION',
        userReason: 'too expensive',
        cancelledDuringFreeTrial: false,
      };
    case 'PlanConvertedToPaid':
    case 'PlanReactivated':
    case 'PlanTransferred':
      return { operationTimeStamp: now.toISOString(), vendorProductId: 'premium', cycle: 'YEARLY', expiresOn: inAYear };
    default:
      return {};
  }
}
