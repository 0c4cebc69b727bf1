import type { Clock } from '../clock.ts';
import type { DatabaseHandle } from '../db/client.ts';
import { createGroupCommitter } from '../db/group-commit.ts';
import { tokenHandouts, type TokenHandoutRow } from '../db/schema/index.ts';
import { WixCallError, type WixFailureKind } from './errors.ts';
import type { AccessToken, TokenBroker } from './token-broker.ts';

type HandoutOutcome = TokenHandoutRow['outcome'];

const OUTCOME_OF_FAILURE: Record<WixFailureKind, HandoutOutcome> = {
  unknown_instance: 'unknown_instance',
  removed_instance: 'removed_instance',
  refused: 'refused',
  unavailable: 'failed',
  network: 'failed',
};

/**
 * Hands out access tokens to other services and audits every request (API key fingerprint,
 * instance, time, outcome; never the token). The audit row is committed before the token leaves
 * (group-committed, so the audit costs no fsync per request).
 */
export function createTokenHandouts(deps: { database: DatabaseHandle; broker: TokenBroker; clock: Clock; observe?: (outcome: HandoutOutcome) => void }) {
  const { db, sqlite } = deps.database;
  const audit = createGroupCommitter(sqlite, (row: typeof tokenHandouts.$inferInsert) => {
    db.insert(tokenHandouts).values(row).run();
  });

  return {
    async handOut(instanceId: string, apiKeyId: string, requestId: string): Promise<AccessToken> {
      const requestedAt = deps.clock.now();
      try {
        const token = await deps.broker.getAccessToken(instanceId);
        await audit.submit({ apiKeyId, instanceId, requestedAt, outcome: 'issued', tokenExpiresAt: token.expiresAt, requestId });
        deps.observe?.('issued');
        return token;
      } catch (err) {
        const outcome = err instanceof WixCallError ? OUTCOME_OF_FAILURE[err.kind] : 'failed';
        await audit.submit({ apiKeyId, instanceId, requestedAt, outcome, requestId }).catch(() => undefined);
        deps.observe?.(outcome);
        throw err;
      }
    },
  };
}

export type TokenHandouts = ReturnType<typeof createTokenHandouts>;
