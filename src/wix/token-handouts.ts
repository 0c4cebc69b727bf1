import type { Clock } from '../clock.ts';
import type { NewTokenHandout, RegistryStore } from '../db/store.ts';
import { WixCallError, type WixFailureKind } from './errors.ts';
import type { AccessToken, TokenBroker } from './token-broker.ts';

type HandoutOutcome = NewTokenHandout['outcome'];

const OUTCOME_OF_FAILURE: Record<WixFailureKind, HandoutOutcome> = {
  unknown_instance: 'unknown_instance',
  removed_instance: 'removed_instance',
  refused: 'refused',
  unavailable: 'failed',
  network: 'failed',
};

/**
 * Hands out access tokens to other services and audits every request (API key fingerprint,
 * instance, time, outcome; never the token). The audit row is committed before the token leaves;
 * it rides the same group commit as webhooks, so the audit costs no fsync of its own.
 */
export function createTokenHandouts(deps: {
  store: RegistryStore;
  broker: TokenBroker;
  clock: Clock;
  observe?: (outcome: HandoutOutcome) => void;
}) {
  const audit = (row: NewTokenHandout) => deps.store.write({ kind: 'tokenHandout', row });
  return {
    async handOut(instanceId: string, apiKeyId: string, requestId: string): Promise<AccessToken> {
      const requestedAt = deps.clock.now();
      try {
        const token = await deps.broker.getAccessToken(instanceId);
        await audit({ apiKeyId, instanceId, requestedAt, outcome: 'issued', tokenExpiresAt: token.expiresAt, requestId });
        deps.observe?.('issued');
        return token;
      } catch (err) {
        const outcome = err instanceof WixCallError ? OUTCOME_OF_FAILURE[err.kind] : 'failed';
        await audit({ apiKeyId, instanceId, requestedAt, outcome, requestId }).catch(() => undefined);
        deps.observe?.(outcome);
        throw err;
      }
    },
  };
}

export type TokenHandouts = ReturnType<typeof createTokenHandouts>;
