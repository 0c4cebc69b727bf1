import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { deliveries } from './deliveries.ts';

/** Per-installation history: one row per verified delivery, parsed. */
export const installationEvents = sqliteTable(
  'installation_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    deliveryId: integer('delivery_id')
      .notNull()
      .unique()
      .references(() => deliveries.id),
    instanceId: text('instance_id').notNull(),
    eventType: text('event_type').notNull(),
    issuedAt: integer('issued_at').notNull(),
    receivedAt: integer('received_at').notNull(),
    /** The event's inner data (layer B), identity (layer C) and accountInfo, as JSON. */
    payload: text('payload', { mode: 'json' }).$type<EventPayload>().notNull(),
  },
  (t) => [
    index('installation_events_instance_idx').on(t.instanceId, t.issuedAt),
    // GET /v1/stats/daily counts AppInstalled / AppRemoved per day: a covering range per type.
    index('installation_events_type_issued_idx').on(t.eventType, t.issuedAt, t.instanceId),
  ],
);

export interface EventPayload {
  data: Record<string, unknown>;
  identity?: Record<string, unknown> | undefined;
  accountInfo?: Record<string, unknown> | undefined;
}

export type InstallationEventRow = typeof installationEvents.$inferSelect;
