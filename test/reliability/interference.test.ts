/**
 * Nothing delays a webhook (issue 8). The mechanism behind the starvation the first wave had: an
 * export is a ReadableStream that @hono/node-server pumps into the socket with
 * `reader.read().then(write)`; while the kernel takes every write at once (a client reading over
 * loopback), each 'drain' comes from process.nextTick, so the whole export ran as one chain of
 * microtasks and the event loop never reached its poll phase: no webhook was even read from its
 * socket until the export ended (measured on the old code: a 10 ms timer fired twice during a
 * 1.5 s export of 100,000 rows). Synchronous queries (lists, a year of stats) added plain delay on
 * top. Now every chunk of an export, and every query, comes from a reader thread as a message —
 * a macrotask — so the event loop turns between chunks and webhooks go first.
 *
 * The real server process, a large export read as fast as loopback allows, and webhooks sent
 * while it streams: each must be answered before the export ends.
 */
import Database from 'better-sqlite3';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/db/open-store.ts';
import { signWixWebhook } from '../../src/sandbox/webhook-signer.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { liveRegistryEnv, spawnRegistry, type ServerProcess } from '../helpers/process.ts';
import { TEST_APP_ID, TEST_APP_SECRET } from '../helpers/registry.ts';
import { TEST_ENGINE } from '../helpers/engine.ts';

const ROWS = 60_000;
const API_KEY = 'interference-api-key-0123456789';

// SQLite only: what it proves is that SQLite's reader threads hand an export over as messages,
// so the event loop turns between chunks (PostgreSQL's reads are network I/O to begin with).
describe.runIf(TEST_ENGINE === 'sqlite')('interference: webhooks during an export, on the real server process', () => {
  let wix: RunningFakeWix;
  let dir: string;
  let server: ServerProcess;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  beforeAll(async () => {
    wix = await startFakeWix();
    dir = mkdtempSync(join(tmpdir(), 'wix-interference-'));
    const dbPath = join(dir, 'registry.db');
    // Migrated by the store itself, then filled straight through SQL: signing 60,000 webhooks would only slow the test.
    await (await openStore(dbPath, { threads: false })).close();
    const db = new Database(dbPath);
    const insert = db.prepare(
      `INSERT INTO installations (instance_id, app_id, status, installed_at, installed_at_inferred, last_event_at, first_seen_at, updated_at, site_name, site_url)
       VALUES (?, 'app', 'active', ?, 0, ?, ?, ?, ?, ?)`,
    );
    db.transaction(() => {
      for (let n = 0; n < ROWS; n++) {
        const at = Date.UTC(2026, 0, 1) + n * 1000;
        insert.run(`seeded-${n}`, at, at, at, at, `Seeded site number ${n}`, `https://seeded-${n}.wixsite.com/site`);
      }
    })();
    db.close();
    server = await spawnRegistry(
      liveRegistryEnv({
        appId: TEST_APP_ID,
        appSecret: TEST_APP_SECRET,
        publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        wixUrl: wix.url,
        databasePath: dbPath,
        overrides: { REGISTRY_API_KEYS: API_KEY },
      }),
      30_000,
    );
  }, 60_000);
  afterAll(async () => {
    if (server?.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    await wix.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers webhooks while a large export streams: each before the export ends', async () => {
    const exportResponse = await fetch(`${server.url}/v1/installations/export?format=csv`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(exportResponse.status).toBe(200);
    const reader = exportResponse.body!.getReader();
    let exportEnded = false;
    let lines = 0;
    const readAll = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const byte of value) if (byte === 0x0a) lines++;
      }
      exportEnded = true;
    })();

    // Webhooks one after another while the export streams, each on its own connection.
    const answeredDuringExport: number[] = [];
    let sent = 0;
    while (!exportEnded && sent < 200) {
      const jwt = signWixWebhook(privateKey, {
        eventType: 'AppInstalled',
        instanceId: `during-export-${sent++}`,
        data: { appId: TEST_APP_ID, originInstanceId: '' },
      });
      const res = await fetch(`${server.url}/webhooks/wix`, { method: 'POST', body: jwt, headers: { connection: 'close' } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'accepted' });
      if (!exportEnded) answeredDuringExport.push(sent);
    }
    await readAll;
    expect(lines).toBeGreaterThanOrEqual(ROWS + 1); // the header, every seeded row, and some of the new ones
    // Under the old design none would be: the export held the event loop until its last byte.
    expect(answeredDuringExport.length).toBeGreaterThanOrEqual(3);
  }, 120_000);
});
