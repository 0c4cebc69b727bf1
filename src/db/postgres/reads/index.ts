import type pg from 'pg';
import type { StoreReads } from '../../store.ts';

/**
 * The PostgreSQL store's reads, on the read pool (src/db/postgres/connection.ts): never on the
 * connections the group commit writes with, so a slow query cannot hold up a webhook.
 */
export function createPostgresReads(pool: pg.Pool): StoreReads {
  void pool;
  throw new Error('PostgreSQL reads are not implemented yet');
}
