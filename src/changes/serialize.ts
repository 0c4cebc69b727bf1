import { toInstallation } from '../installations/serialize.ts';
import { iso } from '../installations/time.ts';
import type { ChangeRecord } from './model.ts';

/** The API's Change (contract.md): what GET /v1/changes lists and what is pushed as `data`. */
export function toChange(record: ChangeRecord) {
  return {
    id: record.id,
    type: record.type,
    instanceId: record.instanceId,
    occurredAt: iso(record.occurredAt),
    recordedAt: iso(record.recordedAt),
    installation: toInstallation(record.installation),
  };
}

export type Change = ReturnType<typeof toChange>;

/**
 * The body POSTed to each push endpoint: the Standard Webhooks envelope (`type`, `timestamp`,
 * `data`), with the change as `data` and its occurredAt as `timestamp` (the spec's "when the event
 * occurred", not when it was sent).
 */
export function toPushPayload(record: ChangeRecord) {
  const data = toChange(record);
  return { type: data.type, timestamp: data.occurredAt, data };
}
