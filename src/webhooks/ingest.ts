import { createHash } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { RegistryStore } from '../db/store.ts';
import type { IngestStatus, VerifiedDelivery } from '../installations/model.ts';
import type { IngestOutcome } from '../installations/writes.ts';

export type { VerifiedDelivery, IngestStatus };

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Stores verified deliveries through the store's group commit. The promise settles only once the
 * delivery is durable, so the route answers 200 only for deliveries on disk. `onStored` lets the
 * process react to what changed (wake the outbox, forget a removed instance's token).
 */
export function createDeliveryIngest(deps: {
  store: RegistryStore;
  clock: Clock;
  onStored?: (delivery: VerifiedDelivery, outcome: IngestOutcome) => void;
}) {
  return {
    async ingest(delivery: VerifiedDelivery): Promise<IngestStatus> {
      // Hashed here, beside the HTTP work, so the writer only writes.
      const outcome = await deps.store.write({ kind: 'ingest', delivery, sha256: sha256Hex(delivery.jwt), receivedAt: deps.clock.now() });
      deps.onStored?.(delivery, outcome);
      return outcome.status;
    },
    /** Re-applies a stored delivery (see replayDelivery). */
    async replay(deliveryId: number) {
      const result = await deps.store.write({ kind: 'replay', deliveryId, now: deps.clock.now() });
      return result ? { instanceId: result.instanceId, changed: result.changed } : null;
    },
  };
}

export type DeliveryIngest = ReturnType<typeof createDeliveryIngest>;
