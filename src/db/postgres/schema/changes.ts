import { bigint, index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { CHANGE_TYPES } from '../../../changes/model.ts';
import type { InstallationRecord } from '../../../installations/model.ts';

/**
 * The change feed (src/changes/): one row per visible transition of an installation, appended in
 * the transaction that made it and never updated. `position` is the feed's order and its cursors.
 *
 * Why a position is safe to page by on PostgreSQL, where several replicas write at once (the "no
 * skip" guarantee of GET /v1/changes): a transaction that appends a change first takes one
 * transaction-scoped advisory lock (src/db/postgres/write-statements.ts, CHANGE_FEED_LOCK) and
 * holds it until it commits, so transactions that append changes commit one after another in the
 * order they drew positions. A reader that has seen position p has seen every change at or below p
 * that will ever commit. Identity positions are never reused.
 */
export const changes = pgTable(
  'changes',
  {
    position: bigint('position', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    /** Random, unique (chg_…): what receivers dedupe by. Not indexed: the registry never looks a change up by it. */
    id: text('id').notNull(),
    type: text('type', { enum: CHANGE_TYPES }).notNull(),
    instanceId: text('instance_id').notNull(),
    /** The Wix event's iat (epoch ms), or when the registry learned what changed. */
    occurredAt: bigint('occurred_at', { mode: 'number' }).notNull(),
    recordedAt: bigint('recorded_at', { mode: 'number' }).notNull(),
    /** The installation right after the change, as JSON (src/installations/model.ts InstallationRecord). */
    installation: jsonb('installation').$type<InstallationRecord>().notNull(),
  },
  // The dashboard's "changes of one instance", newest first.
  (t) => [index('changes_instance_idx').on(t.instanceId, t.position)],
);
