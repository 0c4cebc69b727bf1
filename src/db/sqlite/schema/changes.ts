import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { CHANGE_TYPES } from '../../../changes/model.ts';
import type { InstallationRecord } from '../../../installations/model.ts';

/**
 * The change feed (src/changes/): one row per visible transition of an installation, appended in
 * the transaction that made it and never updated. `position` is the feed's order and its cursors.
 *
 * Why a position handed out by SQLite is safe to page by (the "no skip" guarantee of
 * GET /v1/changes): positions are assigned inside write transactions, and SQLite lets one write
 * transaction at a time hold the database's write lock, from BEGIN IMMEDIATE to COMMIT (the server's
 * one writer thread, and any CLI beside it, take turns). So a transaction that commits later
 * assigns only higher positions than every transaction committed before it, and a reader that has
 * seen position p has seen every change at or below p that will ever commit. AUTOINCREMENT: a
 * position is never reused, even after the newest rows are gone.
 */
export const changes = sqliteTable(
  'changes',
  {
    position: integer('position').primaryKey({ autoIncrement: true }),
    /** Random, unique (chg_…): what receivers dedupe by. Not indexed: the registry never looks a change up by it. */
    id: text('id').notNull(),
    type: text('type', { enum: CHANGE_TYPES }).notNull(),
    instanceId: text('instance_id').notNull(),
    /** The Wix event's iat (epoch ms), or when the registry learned what changed. */
    occurredAt: integer('occurred_at').notNull(),
    recordedAt: integer('recorded_at').notNull(),
    /** The installation right after the change, as JSON (src/installations/model.ts InstallationRecord). */
    installation: text('installation', { mode: 'json' }).$type<InstallationRecord>().notNull(),
  },
  // The dashboard's "changes of one instance", newest first.
  (t) => [index('changes_instance_idx').on(t.instanceId, t.position)],
);
