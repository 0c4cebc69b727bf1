import type pg from 'pg';
import type { StoreReads } from '../../store.ts';
import { createChangeReads } from './changes.ts';
import { createInstallationReads, type PostgresInstallationReadOptions } from './installations.ts';
import { createOutboxReads, createPushReads } from './outbox.ts';
import { createAuditReads, createDeliveryReads, createSessionReads } from './records.ts';

export { EXPORT_PAGE_ROWS } from './installations.ts';

export type PostgresReadOptions = PostgresInstallationReadOptions;

/**
 * The PostgreSQL store's reads, on the read pool (src/db/postgres/connection.ts): never on the
 * connections the group commit writes with, so a slow query cannot hold up a webhook. They give
 * the SQLite store's answers for the same rows (test/integration/postgres-reads.test.ts holds
 * them to it), cursors included: a Position from one engine continues a walk on the other.
 * Each query borrows a connection for itself alone (nothing is held between them); the store maps the errors.
 */
export function createPostgresReads(pool: pg.Pool, options: PostgresReadOptions = {}): StoreReads {
  return {
    installations: createInstallationReads(pool, options),
    outbox: createOutboxReads(pool),
    changes: createChangeReads(pool),
    push: createPushReads(pool),
    deliveries: createDeliveryReads(pool),
    audit: createAuditReads(pool),
    sessions: createSessionReads(pool),
  };
}
