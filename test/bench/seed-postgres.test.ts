/**
 * The PostgreSQL seeder of the bench (seed-postgres.ts) against a real registry process, on a
 * scratch database: the questions are in seeded-database.ts, shared with the SQLite seeder's test.
 * Runs where PostgreSQL answers (the replica tests' guard: skipped loudly without it, never under CI=true).
 */
import { randomBytes } from 'node:crypto';
import { seedPostgres, withPostgres } from '../../bench/lib/seed-postgres.ts';
import { describeOnPostgres, POSTGRES_ADMIN_URL } from '../replicas/support.ts';
import { describeSeededDatabase } from './seeded-database.ts';

describeSeededDatabase(
  'the bench seeder on PostgreSQL (seed-postgres.ts)',
  async (rows) => {
    const name = `wixreg_benchseed_${randomBytes(5).toString('hex')}`;
    await withPostgres(POSTGRES_ADMIN_URL, (admin) => admin.query(`CREATE DATABASE ${name}`));
    const u = new URL(POSTGRES_ADMIN_URL);
    u.pathname = `/${name}`;
    await seedPostgres(u.toString(), rows);
    return {
      url: u.toString(),
      drop: () =>
        withPostgres(POSTGRES_ADMIN_URL, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
    };
  },
  describeOnPostgres,
);
