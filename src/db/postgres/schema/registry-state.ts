import { bigint, pgTable, text } from 'drizzle-orm/pg-core';

/**
 * Small named values the registry keeps for itself: the dashboard's session secret (random,
 * generated once by whichever process needs it first) and how far raw-JWT pruning has got.
 * Names: `dashboard.session_secret`, `retention.raw_jwt_pruned_through` (a delivery id).
 */
export const registryState = pgTable('registry_state', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
});
