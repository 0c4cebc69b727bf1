/**
 * Small helpers shared by the reliability tests (not a test file itself).
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import type { ScratchDatabase } from '../helpers/engine.ts';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/** A seeded PRNG (mulberry32), so a failing run can be replayed with its printed seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Opens the file read-only for a look, and always closes it. */
export function withReadonlyDb<T>(path: string, look: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true, timeout: 5_000 });
  try {
    return look(db);
  } finally {
    db.close();
  }
}

/**
 * SQLite's integrity_check on the file is 'ok'. Only SQLite has this question: a PostgreSQL
 * database's consistency after a crash is the server's (its WAL), not the registry's.
 */
export function expectIntactIfSqlite(database: Pick<ScratchDatabase, 'sqlitePath'>): void {
  if (database.sqlitePath === undefined) return;
  withReadonlyDb(database.sqlitePath, (db) => expect(db.pragma('integrity_check', { simple: true })).toBe('ok'));
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]!, i);
      }
    }),
  );
  return results;
}
