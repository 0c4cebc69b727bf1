/**
 * The change feed's own types: one visible transition of an installation, recorded in the same
 * transaction as the state it describes, in commit order, and never edited. Times are epoch ms.
 */
import type { InstallationRecord } from '../installations/model.ts';

export const CHANGE_TYPES = [
  'installation.installed',
  'installation.removed',
  'installation.plan_changed',
  'installation.site_updated',
  'installation.configured',
] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

/** One change as stored. */
export interface ChangeRecord {
  /**
   * Where it stands in the feed: assigned in commit order (src/db/store.ts, `changes`), so a
   * cursor is the position of the last change a reader has seen.
   */
  position: number;
  /** Unique and never reused (a random UUID): receivers of pushed changes dedupe by it. */
  id: string;
  type: ChangeType;
  instanceId: string;
  /** The Wix event's iat; for what the registry learned itself (Wix accepting a BI event, a site sync, a check), when it learned it. */
  occurredAt: number;
  recordedAt: number;
  /** The installation as it was right after the change, as stored then. */
  installation: InstallationRecord;
}

/** What a transaction script hands the engine to store (the engine assigns the position). */
export type NewChange = Omit<ChangeRecord, 'position'>;
