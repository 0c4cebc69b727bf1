import Database from 'better-sqlite3';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backupDatabase, PG_DUMP_ADVICE } from '../../src/db/backup.ts';
import { sha256Hex } from '../../src/webhooks/ingest.ts';
import { REPO_ROOT } from '../helpers/process.ts';
import { createTestRegistry, TEST_APP_ID, TEST_APP_SECRET, type TestRegistry } from '../helpers/registry.ts';
import { TEST_ENGINE } from '../helpers/engine.ts';

/**
 * `wix-registry backup <file>` (issue 12): SQLite's online backup, taken by the CLI in its own
 * process while the registry ingests, verified, and restorable: the restored copy passes
 * integrity_check and holds every delivery acknowledged before the backup began.
 */

const run = promisify(execFile);
/** Filler rows, so the copy takes long enough for webhooks to land while it runs. */
const FILLER_DELIVERIES = 30_000;

// SQLite only: `wix-registry backup` copies SQLite's file (on PostgreSQL it points to pg_dump,
// the last case here, which needs no database).
describe.runIf(TEST_ENGINE === 'sqlite')('wix-registry backup', () => {
  let t: TestRegistry;
  let out: string;
  let env: Record<string, string>;
  const restored: TestRegistry[] = [];

  beforeAll(async () => {
    t = await createTestRegistry({ now: Date.now() });
    out = mkdtempSync(join(tmpdir(), 'wix-registry-backup-'));
    env = {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: t.databaseUrl,
      WIX_APP_ID: TEST_APP_ID,
      WIX_APP_SECRET: TEST_APP_SECRET,
      WIX_PUBLIC_KEY: t.signer.publicKeyPem,
    };
    // ~2 KB of history per filler row: a database of some tens of MB.
    t.sql((db) => {
      const insert = db.prepare(
        `INSERT INTO deliveries (jwt_sha256, jwt, event_type, instance_id, issued_at, received_at, outcome, payload) VALUES (?, ?, 'InvoiceStatusUpdated', ?, 0, 0, 'ignored', '{"data":{}}')`,
      );
      db.transaction(() => {
        for (let i = 0; i < FILLER_DELIVERIES; i++) insert.run(`filler-${i}`, `filler.${'x'.repeat(2_000)}.${i}`, `filler-${i % 1000}`);
      })();
    });
  }, 60_000);
  afterEach(async () => {
    for (const r of restored.splice(0)) await r.close();
  });
  afterAll(async () => {
    await t?.close();
    rmSync(out, { recursive: true, force: true });
  });

  it('copies the database while webhooks keep arriving; the restored copy passes integrity_check and has every acknowledged delivery', async () => {
    const acknowledged: string[] = [];
    const failures: number[] = [];
    let stop = false;
    let n = 0;
    const ingest = async () => {
      while (!stop) {
        const jwt = await t.signer.sign({ eventType: 'AppInstalled', instanceId: `backup-${n++}`, iat: Math.floor(Date.now() / 1000) });
        const res = await t.deliver(jwt);
        if (res.status === 200) acknowledged.push(jwt);
        else failures.push(res.status);
      }
    };
    const loops = Array.from({ length: 4 }, ingest);
    while (acknowledged.length < 50) await new Promise((r) => setTimeout(r, 10));

    const file = join(out, 'during-ingest.db');
    const ackedBefore = [...acknowledged];
    const backup = spawn(process.execPath, ['bin/wix-registry.js', 'backup', file, '--json'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    backup.stdout.on('data', (d) => (stdout += d));
    backup.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => backup.once('exit', resolve));
    const ackedDuring = acknowledged.length - ackedBefore.length;
    stop = true;
    await Promise.all(loops);
    expect(code, stderr).toBe(0);
    expect(failures).toEqual([]);
    expect(ackedDuring).toBeGreaterThan(0); // the registry kept answering webhooks meanwhile

    const report = JSON.parse(stdout) as {
      integrity: string;
      rows: { deliveries: number };
      deliveriesBeforeBackup: { count: number };
      bytes: number;
    };
    expect(report.integrity).toBe('ok');
    expect(report.deliveriesBeforeBackup.count).toBeGreaterThanOrEqual(FILLER_DELIVERIES + ackedBefore.length);
    expect(report.rows.deliveries).toBeGreaterThanOrEqual(report.deliveriesBeforeBackup.count);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(file).size).toBe(report.bytes);

    // One self-contained file: rollback journal, no -wal beside it.
    const copy = new Database(file, { readonly: true });
    try {
      expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      const hashes = new Set(copy.prepare('SELECT jwt_sha256 FROM deliveries').pluck().all() as string[]);
      expect(ackedBefore.filter((jwt) => !hashes.has(sha256Hex(jwt)))).toEqual([]);
      // Whatever else it holds was sent and acknowledged too (or was in flight): a consistent snapshot.
      const sent = new Set(acknowledged.map(sha256Hex));
      const registryRows = [...hashes].filter((h) => !h.startsWith('filler-'));
      expect(registryRows.filter((h) => !sent.has(h))).toEqual([]);
      expect(copy.prepare(`SELECT count(*) FROM installations WHERE instance_id LIKE 'backup-%'`).pluck().get()).toBe(registryRows.length);
    } finally {
      copy.close();
    }
    expect(existsSync(`${file}-wal`)).toBe(false);

    // Restored: the registry starts on it, knows every acknowledged installation, and a resend is a duplicate.
    const back = await createTestRegistry({ restoreFrom: file, now: Date.now() });
    restored.push(back);
    const first = ackedBefore[0]!;
    expect(await (await back.deliver(first)).json()).toEqual({ status: 'duplicate' });
    expect((await back.api('/v1/installations/backup-0')).status).toBe(200);
    const stats = (await (await back.api('/v1/stats')).json()) as { installations: { active: number } };
    expect(stats.installations.active).toBeGreaterThanOrEqual(ackedBefore.length);
    expect(back.sql((db) => db.pragma('integrity_check', { simple: true }))).toBe('ok');
  }, 90_000);

  it('prints what it verified; never overwrites a file; refuses a missing folder, the database itself, and a missing database', async () => {
    const cli = (args: string[], extra: Record<string, string> = {}) =>
      run(process.execPath, ['bin/wix-registry.js', 'backup', ...args], { cwd: REPO_ROOT, env: { ...env, ...extra }, timeout: 30_000 });
    const file = join(out, 'plain.db');
    const { stdout } = await cli([file]);
    expect(stdout).toMatch(/^backed up .*registry\.db → .*plain\.db \([\d.]+ MB, mode 0600\)/);
    expect(stdout).toMatch(
      /verified: integrity_check ok; \d+ migrations; every one of the \d+ deliveries committed before the backup began is in it/,
    );
    expect(stdout).toMatch(/rows: deliveries \d+, installations \d+, outbox_jobs \d+, token_handouts \d+/);

    const existing = join(out, 'existing.db');
    writeFileSync(existing, 'keep me');
    await expect(cli([existing])).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('already exists') });
    expect(statSync(existing).size).toBe('keep me'.length);
    await expect(cli([join(out, 'no', 'such', 'folder.db')])).rejects.toMatchObject({ stderr: expect.stringContaining('does not exist') });
    await expect(cli([t.dbPath])).rejects.toMatchObject({ stderr: expect.stringContaining('must not be the database itself') });
    await expect(cli([join(out, 'x.db')], { DATABASE_URL: join(out, 'missing.db') })).rejects.toMatchObject({
      stderr: expect.stringContaining('no database at'),
    });
    expect(existsSync(join(out, 'x.db'))).toBe(false);
  }, 60_000);

  it('on PostgreSQL, refuses and points to pg_dump', async () => {
    await expect(
      backupDatabase({ engine: 'postgres' } as unknown as Parameters<typeof backupDatabase>[0], join(out, 'pg.db')),
    ).rejects.toThrow(PG_DUMP_ADVICE);
    expect(PG_DUMP_ADVICE).toMatch(/pg_dump --format=custom/);
    expect(existsSync(join(out, 'pg.db'))).toBe(false);
  });
});
