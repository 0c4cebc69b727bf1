import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Clock } from '../clock.ts';
import type { DatabaseHandle } from '../db/client.ts';
import { createGroupCommitter } from '../db/group-commit.ts';
import { deliveries } from '../db/schema/index.ts';
import { createEventRecorder, type StateTransition } from '../installations/record-event.ts';
import type { WixEvent } from './envelope.ts';

export interface VerifiedDelivery {
  /** The raw JWT exactly as received. */
  jwt: string;
  event: WixEvent;
}

export type IngestStatus = 'accepted' | 'duplicate';

/** Called inside the delivery's transaction when an installation's visible state changed. */
export type TransitionListener = (transition: StateTransition, now: number) => void;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Stores a verified delivery: dedupe by the JWT's hash, store the delivery, append history,
 * apply the state machine, and let listeners (the outbox) write in the same transaction.
 * Deliveries are group-committed; the returned promise settles only after the commit, so the
 * route answers 200 only for deliveries that are on disk.
 */
export function createDeliveryIngest(deps: {
  database: DatabaseHandle;
  clock: Clock;
  onTransition?: TransitionListener[];
  /** false: one transaction (and fsync) per delivery. For the benchmark's comparison only. */
  groupCommit?: boolean;
}) {
  const { db, sqlite } = deps.database;
  const recorder = createEventRecorder(deps.database);
  // Prepared once: this runs for every delivery.
  const insertDelivery = sqlite.prepare<[string, string, string, string, number, number, string], { id: number }>(
    `INSERT INTO deliveries (jwt_sha256, jwt, event_type, instance_id, issued_at, received_at, outcome)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (jwt_sha256) DO NOTHING RETURNING id`,
  );
  const listeners = deps.onTransition ?? [];

  function ingestOne(delivery: VerifiedDelivery): IngestStatus {
    const { event, jwt } = delivery;
    const hash = sha256Hex(jwt);
    const receivedAt = deps.clock.now();
    const { outcome, transition } = recorder.evaluate(event, hash);
    const inserted = insertDelivery.get(hash, jwt, event.eventType, event.instanceId, event.issuedAt, receivedAt, outcome);
    // A Wix resend is the identical JWT: already stored, nothing more to do.
    if (!inserted) return 'duplicate';
    recorder.record(event, inserted.id, receivedAt, transition);
    if (transition) for (const listener of listeners) listener(transition, receivedAt);
    return 'accepted';
  }

  const committer = createGroupCommitter(sqlite, ingestOne);
  const ingestNow = sqlite.transaction(ingestOne);
  return {
    ingest:
      deps.groupCommit === false
        ? async (delivery: VerifiedDelivery) => ingestNow.immediate(delivery)
        : (delivery: VerifiedDelivery) => committer.submit(delivery),
    /** Synchronous, unbatched: for replays and tools that already hold a transaction. */
    ingestNow: (delivery: VerifiedDelivery) => ingestNow.immediate(delivery),
    flush: () => committer.flush(),
    /**
     * Re-applies a stored delivery: its instance's state is recomputed from the full history
     * (which holds the delivery) and written, with the outbox reacting as for a live delivery.
     */
    replay(deliveryId: number): { instanceId: string; changed: boolean } | null {
      return sqlite.transaction(() => {
        const delivery = db.select({ instanceId: deliveries.instanceId }).from(deliveries).where(eq(deliveries.id, deliveryId)).get();
        if (!delivery) return null;
        const now = deps.clock.now();
        const transition = recorder.rebuild(delivery.instanceId, now);
        if (transition) for (const listener of listeners) listener(transition, now);
        return { instanceId: delivery.instanceId, changed: transition !== null };
      }).immediate();
    },
  };
}

export type DeliveryIngest = ReturnType<typeof createDeliveryIngest>;
