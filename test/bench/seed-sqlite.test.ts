/**
 * The SQLite seeder of the bench (seed-sqlite.ts) against a real registry process: the questions
 * are in seeded-database.ts, shared with the PostgreSQL seeder's test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedSqlite } from '../../bench/lib/seed-sqlite.ts';
import { describeSeededDatabase } from './seeded-database.ts';

describeSeededDatabase('the bench seeder on SQLite (seed-sqlite.ts)', async (rows) => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-seed-'));
  const path = join(dir, 'seeded.db');
  await seedSqlite(path, rows);
  return { url: path, drop: async () => rmSync(dir, { recursive: true, force: true }) };
});
