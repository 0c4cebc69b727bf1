/**
 * Database trouble: the webhook answers 503 (so Wix resends) and writes nothing when SQLite
 * cannot take the write — locked by another process past the server's busy timeout, read-only,
 * out of space — and recovers as soon as the trouble is gone. And a CLI working on the same file
 * as the running server never makes a webhook fail with a 500.
 */
import { execFile, spawn } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { WRITER_BUSY_TIMEOUT_MS } from '../../src/db/sqlite/connection.ts';
import { openSqliteStore, type SqliteStore } from '../../src/db/sqlite/store.ts';
import { createLogger } from '../../src/logger.ts';
import { createRegistry, type Registry } from '../../src/registry.ts';
import { signWixWebhook } from '../../src/sandbox/webhook-signer.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { liveRegistryEnv, REPO_ROOT, spawnRegistry, type ServerProcess } from '../helpers/process.ts';
import { rowCounts, TEST_API_KEY, TEST_APP_ID, TEST_APP_SECRET, withSqlite } from '../helpers/registry.ts';
import { openTestDatabase } from '../helpers/database.ts';
import { createTestDatabase, TEST_ENGINE, type ScratchDatabase } from '../helpers/engine.ts';
import { sha256Hex, sleep } from './support.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PUBLIC_KEY_PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();

let counter = 0;
/** A unique, correctly signed AppInstalled (optionally padded to a given size). */
function installJwt(prefix: string, padding = 0): { instanceId: string; jwt: string } {
  const instanceId = `${prefix}-${++counter}`;
  const data: Record<string, unknown> = { appId: TEST_APP_ID, originInstanceId: '' };
  if (padding > 0) data.note = 'x'.repeat(padding);
  return { instanceId, jwt: signWixWebhook(privateKey, { eventType: 'AppInstalled', instanceId, data }) };
}

interface Answer {
  status: number;
  body: { status?: string; error?: { code?: string } };
}

// SQLite only: a lock held by another process, a read-only connection and a file that cannot
// grow are SQLite's own troubles (its file and pragmas). A PostgreSQL server that goes away is
// tested with the PostgreSQL store (test/integration/postgres-*.test.ts).
describe.runIf(TEST_ENGINE === 'sqlite')('database trouble, in process: the store as main.ts opens it (writer and reader threads)', () => {
  let dir: string;
  let dbPath: string;
  let store: SqliteStore;
  let registry: Registry;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wix-db-trouble-'));
    dbPath = join(dir, 'registry.db');
    store = await openSqliteStore(dbPath, { threads: true });
    registry = createRegistry({
      wix: { appId: TEST_APP_ID, appSecret: TEST_APP_SECRET, publicKeys: [createPublicKey(PUBLIC_KEY_PEM)] },
      wixApiBaseUrl: 'http://127.0.0.1:9',
      apiKeys: [TEST_API_KEY],
      store,
      logger: createLogger('silent'),
      clock: systemClock,
      backoff: { baseMs: 1_000, capMs: 60_000, maxAttempts: 5 },
    });
  });
  afterAll(async () => {
    await registry.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function deliver(jwt: string): Promise<Answer> {
    const res = await registry.app.request('/webhooks/wix', { method: 'POST', body: jwt, headers: { 'content-type': 'text/plain' } });
    return { status: res.status, body: (await res.json()) as Answer['body'] };
  }
  const api = (path: string) => registry.app.request(path, { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
  const stored = (jwt: string) =>
    withSqlite(dbPath, (db) => db.prepare('SELECT count(*) FROM deliveries WHERE jwt_sha256 = ?').pluck().get(sha256Hex(jwt))) === 1;
  const integrity = () => withSqlite(dbPath, (db) => db.pragma('integrity_check', { simple: true }));
  const outboxJobs = () => withSqlite(dbPath, (db) => db.prepare('SELECT count(*) FROM outbox_jobs').pluck().get());
  const writerPragma = async (text: string) => (await store.writerPragma(text)) as { [key: string]: unknown }[];
  const writerValue = async (name: string) => Object.values((await writerPragma(name))[0]!)[0] as number;
  const expectUnavailable = (answer: Answer) => {
    expect(answer.status).toBe(503);
    expect(answer.body.error?.code).toBe('unavailable');
  };

  it('some data to start with', async () => {
    for (let i = 0; i < 20; i++) expect((await deliver(installJwt('seed').jwt)).body).toEqual({ status: 'accepted' });
    expect(await rowCounts(openTestDatabase(dbPath))).toEqual({ deliveries: 20, installations: 20 });
  });

  it('(a) locked by another process: 503 within the busy timeout, nothing written; 200 once the lock is released', async () => {
    // The server gives up on a lock after its busy timeout, well inside Wix's 1250 ms.
    expect(await writerValue('busy_timeout')).toBe(WRITER_BUSY_TIMEOUT_MS);
    expect(WRITER_BUSY_TIMEOUT_MS).toBeLessThan(1_250);

    // Another process holds SQLite's write lock until it is told to let go (no timer: however
    // slow the machine, the lock is held for as long as the deliveries below take).
    const locker = spawn(
      process.execPath,
      [
        '-e',
        `const Database = require('better-sqlite3');
           const db = new Database(process.argv[1]);
           db.exec('BEGIN EXCLUSIVE');
           process.stdout.write('locked\\n');
           process.stdin.once('data', () => { db.exec('COMMIT'); db.close(); process.stdout.write('released\\n'); process.exit(0); });`,
        dbPath,
      ],
      { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    locker.stdout.on('data', (d) => (out += d));
    locker.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => locker.once('exit', resolve));
    for (let i = 0; i < 200 && !out.includes('locked'); i++) await sleep(10);
    expect(out).toContain('locked');

    const before = await rowCounts(openTestDatabase(dbPath));
    const one = installJwt('locked');
    const two = installJwt('locked');
    // Two at once share one group commit: both are refused while the lock is still held (the
    // server answered without waiting for the lock to go away).
    const answers = await Promise.all([deliver(one.jwt), deliver(two.jwt)]);
    for (const answer of answers) expectUnavailable(answer);
    expect(out).not.toContain('released'); // the lock really was held throughout
    expect(await rowCounts(openTestDatabase(dbPath))).toEqual(before);
    expect(stored(one.jwt) || stored(two.jwt)).toBe(false);
    // Readers are not blocked by the writer (WAL): the query API still answers.
    expect((await api('/v1/installations?limit=5')).status).toBe(200);

    locker.stdin.end('release\n');
    expect(await exited).toBe(0);
    expect(out).toContain('released');
    expect((await deliver(one.jwt)).body).toEqual({ status: 'accepted' });
    expect((await deliver(two.jwt)).body).toEqual({ status: 'accepted' });
    expect((await deliver(one.jwt)).body).toEqual({ status: 'duplicate' });
    expect(await rowCounts(openTestDatabase(dbPath))).toEqual({
      deliveries: before.deliveries + 2,
      installations: before.installations + 2,
    });
    expect(integrity()).toBe('ok');
  }, 30_000);

  it('(b) read-only: 503 and nothing half-written; writable again: 200', async () => {
    const before = await rowCounts(openTestDatabase(dbPath));
    const jobsBefore = outboxJobs();
    const one = installJwt('readonly');
    await store.writerPragma('query_only = ON');
    try {
      const answers = await Promise.all([deliver(one.jwt), deliver(installJwt('readonly').jwt)]);
      for (const answer of answers) expectUnavailable(answer);
      expect((await api('/v1/installations?limit=5')).status).toBe(200);
    } finally {
      await store.writerPragma('query_only = OFF');
    }
    expect(await rowCounts(openTestDatabase(dbPath))).toEqual(before);
    expect(outboxJobs()).toBe(jobsBefore);
    expect(stored(one.jwt)).toBe(false);
    expect((await deliver(one.jwt)).body).toEqual({ status: 'accepted' });
    expect(integrity()).toBe('ok');
  });

  it('(c) out of space: 503 for what does not fit, nothing half-written, existing data intact; space again: 200', async () => {
    const known = (await (await api('/v1/installations?limit=500')).json()) as { items: { instanceId: string }[] };
    const snapshot = await (await api(`/v1/installations/${known.items[0]!.instanceId}`)).text();
    const pages = await writerValue('page_count');
    const defaultMax = await writerValue('max_page_count');
    expect(await writerValue('freelist_count')).toBe(0);
    await store.writerPragma(`max_page_count = ${pages}`); // the disk is full: the file cannot grow by one page
    const refused: string[] = [];
    let accepted = 0;
    try {
      // A delivery needing overflow pages cannot fit at all.
      const big = installJwt('full', 20_000);
      const before = await rowCounts(openTestDatabase(dbPath));
      expectUnavailable(await deliver(big.jwt));
      expect(await rowCounts(openTestDatabase(dbPath))).toEqual(before);
      expect(stored(big.jwt)).toBe(false);
      refused.push(big.jwt);

      // Small ones fill what room the pages have left, then are refused too; in group-commit
      // batches each is either stored and answered 200, or not stored and answered 503.
      for (let round = 0; round < 40 && refused.length < 25; round++) {
        const batch = Array.from({ length: 10 }, () => installJwt('full'));
        const answers = await Promise.all(batch.map((d) => deliver(d.jwt)));
        answers.forEach((answer, i) => {
          const jwt = batch[i]!.jwt;
          if (answer.status === 200) {
            expect(answer.body).toEqual({ status: 'accepted' });
            expect(stored(jwt)).toBe(true);
            accepted++;
          } else {
            expectUnavailable(answer);
            expect(stored(jwt)).toBe(false);
            refused.push(jwt);
          }
        });
      }
      expect(refused.length).toBeGreaterThan(10);
      expect(await writerValue('page_count')).toBe(pages);
      expect(integrity()).toBe('ok');
      const counts = await rowCounts(openTestDatabase(dbPath));
      expect(counts.installations).toBe(counts.deliveries);
      expect(await (await api(`/v1/installations/${known.items[0]!.instanceId}`)).text()).toBe(snapshot);
    } finally {
      await store.writerPragma(`max_page_count = ${defaultMax}`);
    }
    console.log(`[database-trouble] disk full: ${accepted} small deliveries still fitted, ${refused.length} refused with 503`);
    for (const jwt of refused) expect((await deliver(jwt)).body).toEqual({ status: 'accepted' });
    expect(integrity()).toBe('ok');
  }, 60_000);
});

describe('database trouble across processes: the CLI beside the running server', () => {
  let wix: RunningFakeWix;
  let database: ScratchDatabase;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    wix = await startFakeWix();
    database = await createTestDatabase();
  });
  afterAll(async () => {
    if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
    await wix.close();
    await database.drop();
  });

  it('(d) outbox retry and installs list run repeatedly while webhooks stream: never a 500', async () => {
    const env = liveRegistryEnv({
      appId: TEST_APP_ID,
      appSecret: TEST_APP_SECRET,
      publicKeyPem: PUBLIC_KEY_PEM,
      wixUrl: wix.url,
      databasePath: database.url,
      overrides: { OUTBOX_MAX_ATTEMPTS: '3' },
    });
    server = await spawnRegistry(env, 30_000);
    const url = `${server.url}/webhooks/wix`;

    const statuses = new Map<number, number>();
    let stop = false;
    // Some instances Wix refuses (app not installed): their jobs die at once, and every
    // `outbox retry --all-dead` brings them back, so the CLI really writes.
    const streams = Array.from({ length: 4 }, async (_, lane) => {
      let n = 0;
      while (!stop) {
        const { instanceId, jwt } = installJwt(`two-procs-${lane}`);
        if (n++ % 5 === 0) wix.fake.markRemoved(instanceId);
        const res = await fetch(url, { method: 'POST', body: jwt });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        await res.body?.cancel();
      }
    });

    const cli = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['bin/wix-registry.js', ...args],
          { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, timeout: 60_000 },
          (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    const runs: string[] = [];
    try {
      await sleep(300);
      // Both commands at once, four times over: two more processes on the file beside the server.
      for (let i = 0; i < 4; i++) {
        const [retry, list] = await Promise.all([
          cli(['outbox', 'retry', '--all-dead']),
          cli(['installs', 'list', '--json', '--limit', '20']),
        ]);
        expect(retry.code, retry.stderr).toBe(0);
        expect(retry.stdout).toMatch(/job\(s\) queued again/);
        runs.push(retry.stdout.trim().replace(/;.*$/, ''));
        expect(list.code, list.stderr).toBe(0);
        expect((JSON.parse(list.stdout) as { items: unknown[] }).items.length).toBeGreaterThan(0);
      }
    } finally {
      stop = true;
      await Promise.all(streams);
    }

    const answered = Object.fromEntries(statuses);
    console.log(`[database-trouble] two processes: webhook answers ${JSON.stringify(answered)}; CLI runs: ${runs.join(' | ')}`);
    expect([...statuses.keys()].filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(
      server
        .output()
        .split('\n')
        .filter((line) => /"level":(50|60)/.test(line)),
    ).toEqual([]); // nothing logged at error or fatal
  }, 120_000);
});
