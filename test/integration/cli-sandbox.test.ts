import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_ENGINE, type ScratchDatabase } from '../helpers/engine.ts';

/**
 * The `wix-registry` command as a user runs it: real processes (node bin/wix-registry.js), real
 * HTTP on 127.0.0.1, a real SQLite file in a temp directory. Nothing here talks to Wix.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'wix-registry.js');
const COMMAND_TIMEOUT_MS = 15_000;

/**
 * The environment of every child: ours without anything that would change its mode. The Wix
 * credentials are set to empty (unset, for the registry) rather than deleted, so a developer's
 * `.env` in the repo root cannot switch the children to live mode: the real environment wins.
 */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('WIX_') || name === 'REGISTRY_API_KEYS' || name === 'NODE_ENV' || name === 'LOG_LEVEL') delete env[name];
  }
  return {
    ...env,
    WIX_APP_ID: '',
    WIX_APP_SECRET: '',
    WIX_PUBLIC_KEY: '',
    WIX_API_BASE_URL: '',
    REGISTRY_API_KEYS: '',
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    PORT: '0',
    ...extra,
  };
}

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs one CLI command to completion (killed after COMMAND_TIMEOUT_MS). */
function cli(args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Resolves with the exit of `child` (already exited: at once), or rejects after `ms`. */
function exitOf(child: ChildProcess, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process did not exit within ${ms} ms`)), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

// The children run in the test's own directory: on PostgreSQL the sandbox keeps its keys under
// ./data/sandbox of the working directory (beside the file on SQLite).
describe('wix-registry in sandbox mode (serve, simulate, installs)', () => {
  let database: ScratchDatabase;
  let dir: string;
  /** Beside the SQLite file; on PostgreSQL under ./data of the working directory (the test's own directory here). */
  let sandboxDir: string;
  let env: NodeJS.ProcessEnv;
  let server: ChildProcess;
  let serverOut = '';
  let serverErr = '';
  let baseUrl: string;
  let webhookUrl: string;
  let instanceId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    dir = database.dir;
    sandboxDir = database.sqlitePath === undefined ? join(dir, 'data', 'sandbox') : join(dir, 'sandbox');
    env = childEnv({ DATABASE_URL: database.url });
    server = spawn(process.execPath, [BIN, 'serve'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (chunk: Buffer) => (serverOut += chunk.toString()));
    server.stderr!.on('data', (chunk: Buffer) => (serverErr += chunk.toString()));
    baseUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`serve did not log "listening" in time.\nstdout:\n${serverOut}\nstderr:\n${serverErr}`)),
        COMMAND_TIMEOUT_MS,
      );
      const onData = () => {
        for (const line of serverOut.split('\n')) {
          if (!line.startsWith('{')) continue;
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === 'wix-registry listening' && entry.url) {
            clearTimeout(timer);
            server.stdout!.off('data', onData);
            resolve(entry.url);
            return;
          }
        }
      };
      server.stdout!.on('data', onData);
      server.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`serve exited (${code}) before listening.\nstdout:\n${serverOut}\nstderr:\n${serverErr}`));
      });
    });
    webhookUrl = `${baseUrl}/webhooks/wix`;
  });

  afterAll(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      server.kill('SIGKILL');
      await exitOf(server, 5_000).catch(() => undefined);
    }
    await database?.drop();
  });

  const apiKey = () => (JSON.parse(readFileSync(join(sandboxDir, 'credentials.json'), 'utf8')) as { apiKey: string }).apiKey;

  it('starts in sandbox mode, says so loudly and prints the generated API key once', () => {
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(baseUrl).not.toMatch(/:0$/);
    expect(serverOut).toContain('SANDBOX MODE');
    const printed = serverOut.match(/sbx_[A-Za-z0-9_-]+/g);
    expect(printed).toEqual([apiKey()]);
    // The generated app secret is never printed.
    const { appSecret } = JSON.parse(readFileSync(join(sandboxDir, 'credentials.json'), 'utf8')) as { appSecret: string };
    expect(serverOut + serverErr).not.toContain(appSecret);
    const listening = JSON.parse(serverOut.split('\n').find((l) => l.includes('"wix-registry listening"'))!) as Record<string, unknown>;
    expect(listening).toMatchObject({ mode: 'sandbox', database: database.url });
  });

  it('answers /healthz and /readyz', async () => {
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${baseUrl}/readyz`)).status).toBe(200);
  });

  it('simulate installed: signs with the sandbox key, posts, and the registry accepts it', async () => {
    const result = await cli(['simulate', 'installed', '--url', webhookUrl], env, dir);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('AppInstalled');
    expect(result.stdout).toMatch(/→ 200 \{"status":"accepted"\}/);
    instanceId = /for instance (\S+)/.exec(result.stdout)![1]!;
  });

  it('installs list --json shows the one active installation', async () => {
    const result = await cli(['installs', 'list', '--json'], env, dir);
    expect(result.code).toBe(0);
    const page = JSON.parse(result.stdout) as {
      items: { instanceId: string; status: string; removedAt: string | null }[];
      nextCursor: string | null;
    };
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ instanceId, status: 'active', removedAt: null });
    expect(page.nextCursor).toBeNull();
  });

  it('GET /v1/installations: 200 with the sandbox API key, 401 without or with a wrong one', async () => {
    const ok = await fetch(`${baseUrl}/v1/installations`, { headers: { authorization: `Bearer ${apiKey()}` } });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { items: { instanceId: string }[] };
    expect(body.items).toHaveLength(1);
    expect(body.items[0]!.instanceId).toBe(instanceId);

    const none = await fetch(`${baseUrl}/v1/installations`);
    expect(none.status).toBe(401);
    const wrong = await fetch(`${baseUrl}/v1/installations`, { headers: { authorization: 'Bearer sbx_not-the-key-at-all-000000' } });
    expect(wrong.status).toBe(401);
  });

  it('simulate removed without --instance removes the newest active installation', async () => {
    const result = await cli(['simulate', 'removed', '--url', webhookUrl], env, dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`AppRemoved for instance ${instanceId}`);
    expect(result.stdout).toMatch(/→ 200 /);

    const removed = await cli(['installs', 'list', '--status', 'removed', '--json'], env, dir);
    expect(removed.code).toBe(0);
    const page = JSON.parse(removed.stdout) as { items: { instanceId: string; status: string; removedAt: string | null }[] };
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ instanceId, status: 'removed' });
    expect(page.items[0]!.removedAt).not.toBeNull();

    const active = await cli(['installs', 'list', '--status', 'active', '--json'], env, dir);
    expect((JSON.parse(active.stdout) as { items: unknown[] }).items).toHaveLength(0);
  });

  it('installs show prints the installation with both events in its history', async () => {
    const result = await cli(['installs', 'show', instanceId], env, dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`instance\\s+${instanceId}`));
    expect(result.stdout).toMatch(/status\s+removed/);
    const history = result.stdout.slice(result.stdout.indexOf('history:'));
    expect(history).toContain('AppInstalled');
    expect(history).toContain('AppRemoved');
    expect(history.indexOf('AppInstalled')).toBeLessThan(history.indexOf('AppRemoved'));
  });

  it('installs show of an unknown instance exits non-zero', async () => {
    const result = await cli(['installs', 'show', 'no-such-instance'], env, dir);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('no-such-instance');
  });

  it("a newcomer watches reconcile repair what no webhook told: a removal and a renamed site on the fake Wix's side", async () => {
    const installed = async () =>
      /for instance (\S+)/.exec((await cli(['simulate', 'installed', '--url', webhookUrl], env, dir)).stdout)![1]!;
    const gone = await installed();
    const renamed = await installed();
    const silently = await cli(['simulate', 'removed', '--silently', '--instance', gone], env, dir);
    expect(silently.code).toBe(0);
    expect(silently.stdout).toContain('no webhook was sent');
    expect((await cli(['simulate', 'site-changed', '--instance', renamed, '--site-name', 'Renamed Bakery'], env, dir)).code).toBe(0);
    // The registry has not heard of either.
    expect(JSON.parse((await cli(['installs', 'show', gone, '--json'], env, dir)).stdout).installation.status).toBe('active');

    const result = await cli(['reconcile', '--json'], { ...env, RECONCILE_RATE_PER_SEC: '50' }, dir);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ removed: 1, failed: 0, stoppedEarly: false, reason: null });
    expect(summary.updated).toBeGreaterThanOrEqual(1);
    const shown = JSON.parse((await cli(['installs', 'show', gone, '--json'], env, dir)).stdout) as {
      installation: { status: string };
      events: { eventType: string }[];
    };
    expect(shown.installation.status).toBe('removed');
    expect(shown.events.map((e) => e.eventType)).toEqual(['AppInstalled', 'Reconciled.Removed']);
    expect(JSON.parse((await cli(['installs', 'show', renamed, '--json'], env, dir)).stdout).installation.site.name).toBe('Renamed Bakery');
  }, 60_000); // six CLI processes, each a fresh Node with the TypeScript loader

  it('exits 0 on SIGTERM within a few seconds, logging "stopped"', async () => {
    server.kill('SIGTERM');
    const exit = await exitOf(server, 5_000);
    expect(exit).toEqual({ code: 0, signal: null });
    const logged = serverOut
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(logged).toContain('stopped');
    expect(serverErr).toBe('');
  });
});

// SQLite only: what happens to a database file and the folders around it.
describe.runIf(TEST_ENGINE === 'sqlite')('wix-registry refusing to start, and migrate', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'wix-registry-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serve with NODE_ENV=production and no Wix credentials exits non-zero naming all three', async () => {
    const dbPath = join(dir, 'prod', 'registry.db');
    const result = await cli(['serve'], childEnv({ NODE_ENV: 'production', DATABASE_URL: dbPath }));
    expect(result.signal).toBeNull();
    expect(result.code).not.toBe(0);
    for (const name of ['WIX_APP_ID', 'WIX_APP_SECRET', 'WIX_PUBLIC_KEY']) expect(result.stderr).toContain(name);
    expect(result.stdout).not.toContain('SANDBOX MODE');
    expect(result.stdout).not.toContain('listening');
    // It refused before touching anything: no database, no generated sandbox keys.
    expect(existsSync(dbPath)).toBe(false);
    expect(existsSync(join(dir, 'prod', 'sandbox'))).toBe(false);
  });

  it('serve with a bad PORT and a bad LOG_LEVEL names both in one go', async () => {
    const result = await cli(['serve'], childEnv({ PORT: 'abc', LOG_LEVEL: 'loud', DATABASE_URL: join(dir, 'bad', 'registry.db') }));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('PORT');
    expect(result.stderr).toContain('LOG_LEVEL');
  });

  it('migrate on a fresh DATABASE_URL (in a directory that does not exist yet) exits 0 and creates the file', async () => {
    const dbPath = join(dir, 'fresh', 'nested', 'registry.db');
    expect(existsSync(dbPath)).toBe(false);
    const result = await cli(['migrate'], childEnv({ DATABASE_URL: `file://${dbPath}` }));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(existsSync(dbPath)).toBe(true);
    expect(result.stdout).toContain(dbPath);
    // Running it again is a no-op that still succeeds.
    expect((await cli(['migrate'], childEnv({ DATABASE_URL: dbPath }))).code).toBe(0);
  });
});
