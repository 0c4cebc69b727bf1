/**
 * The durability settings a `200` to Wix relies on, asserted on the connections the server
 * really opens (startRegistry is what `npm start` runs): WAL, synchronous=FULL and a busy timeout
 * on the writer; the same on every reader, which is also query-only. If any of them drifted
 * (synchronous=NORMAL would lose acknowledged deliveries on power loss), this fails.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WRITER_BUSY_TIMEOUT_MS } from '../../src/db/sqlite/connection.ts';
import type { SqliteStore } from '../../src/db/sqlite/store.ts';
import { createLogger } from '../../src/logger.ts';
import { startRegistry } from '../../src/main.ts';
import { TEST_APP_ID, TEST_APP_SECRET } from '../helpers/registry.ts';
import { TEST_ENGINE } from '../helpers/engine.ts';

// SQLite only: pragmas of SQLite's connections and the modes of its files.
describe.runIf(TEST_ENGINE === 'sqlite')('durability settings of the connections the server opens', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wix-durability-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writer: WAL, synchronous=FULL, foreign keys, busy timeout; readers: the same and query-only; files owner-only', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const dbPath = join(dir, 'data', 'registry.db');
    const running = await startRegistry({
      env: {
        WIX_APP_ID: TEST_APP_ID,
        WIX_APP_SECRET: TEST_APP_SECRET,
        WIX_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        WIX_API_BASE_URL: 'http://127.0.0.1:9',
        DATABASE_URL: dbPath,
        PORT: '0',
        HOST: '127.0.0.1',
      },
      logger: createLogger('silent'),
      print: () => {},
    });
    try {
      const { writer, readers } = (running.store as SqliteStore).pragmas();
      expect(writer).toMatchObject({
        journal_mode: 'wal',
        synchronous: 2,
        foreign_keys: 1,
        busy_timeout: WRITER_BUSY_TIMEOUT_MS,
        query_only: 0,
      });
      expect(readers.length).toBeGreaterThan(0);
      for (const reader of readers) expect(reader).toMatchObject({ journal_mode: 'wal', synchronous: 2, foreign_keys: 1, query_only: 1 });
      for (const reader of readers) expect(reader.busy_timeout).toBeGreaterThan(0);
      // Raw webhooks and the token audit: readable by their owner only.
      expect(statSync(join(dir, 'data')).mode & 0o777).toBe(0o700);
      expect(statSync(dbPath).mode & 0o777).toBe(0o600);
      expect(statSync(`${dbPath}-wal`).mode & 0o777).toBe(0o600);
    } finally {
      await running.stop();
    }
  });
});
