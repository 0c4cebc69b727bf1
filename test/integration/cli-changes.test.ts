import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Change } from '../../src/changes/serialize.ts';
import { REPO_ROOT } from '../helpers/process.ts';
import { createTestRegistry, TEST_APP_ID, TEST_APP_SECRET, type TestRegistry } from '../helpers/registry.ts';

const run = promisify(execFile);

/** `wix-registry changes [--follow] [--after] [--json]` on the database a running registry writes. */
describe('CLI: changes', () => {
  let t: TestRegistry;
  let env: Record<string, string>;
  let iat = Math.floor(Date.now() / 1000) - 600;
  const cli = (...args: string[]) =>
    run(process.execPath, ['bin/wix-registry.js', 'changes', ...args], { cwd: REPO_ROOT, env, timeout: 20_000 });
  const deliver = async (eventType: string, instanceId: string, data: Record<string, unknown> = {}) =>
    expect((await t.deliver(await t.signer.sign({ eventType, instanceId, iat: iat++, data }))).status).toBe(200);
  const lines = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { cursor: string; change: Change });

  beforeAll(async () => {
    t = await createTestRegistry({ now: Date.now() });
    env = {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: t.databaseUrl,
      WIX_APP_ID: TEST_APP_ID,
      WIX_APP_SECRET: TEST_APP_SECRET,
      WIX_PUBLIC_KEY: t.signer.publicKeyPem,
    };
    await deliver('AppInstalled', 'cli-a');
    await deliver('PaidPlanPurchased', 'cli-a', { vendorProductId: 'premium' });
    await deliver('AppInstalled', 'cli-b');
  });
  afterAll(() => t.close());

  it('--json prints every change as the API serves it, each with the cursor to resume after it', async () => {
    const { stdout, stderr } = await cli('--json');
    const printed = lines(stdout);
    const api = (await (await t.api('/v1/changes')).json()) as { items: Change[]; nextCursor: string };
    expect(printed.map((p) => p.change)).toEqual(api.items);
    expect(stderr.trim()).toBe(`cursor: ${api.nextCursor}`);
    // A cursor printed here continues exactly after its change, in the CLI and in the API alike.
    const fromSecond = lines((await cli('--json', '--after', printed[0]!.cursor)).stdout);
    expect(fromSecond.map((p) => p.change.id)).toEqual(api.items.slice(1).map((c) => c.id));
    const apiFromSecond = (await (await t.api(`/v1/changes?after=${printed[0]!.cursor}`)).json()) as { items: Change[] };
    expect(apiFromSecond.items).toEqual(api.items.slice(1));
    expect(lines((await cli('--json', '--limit', '1')).stdout).map((p) => p.change.type)).toEqual(['installation.installed']);
    expect(lines((await cli('--json', '--instance', 'cli-b')).stdout).map((p) => p.change.instanceId)).toEqual(['cli-b']);
  });

  it('prints one readable line per change', async () => {
    const { stdout } = await cli();
    const rows = stdout.trim().split('\n');
    expect(rows).toHaveLength(3);
    expect(rows[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+installation\.plan_changed\s+cli-a\s+active\s+premium\s+chg_[0-9a-f]{32}$/);
  });

  it('refuses a cursor that is not one of this feed', async () => {
    const error = (await cli('--after', 'nonsense').catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(error.code).toBe(2);
    expect(error.stderr).toContain('--after: not a cursor of this feed');
    const ahead = Buffer.from(JSON.stringify(['changes', 999])).toString('base64url');
    const beyond = (await cli('--after', ahead).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(beyond.code).toBe(1);
    expect(beyond.stderr).toContain('ahead of every change');
  });

  it('--follow prints only what commits from now on, as the server commits it, and says where to resume when stopped', async () => {
    const child = spawn(process.execPath, ['bin/wix-registry.js', 'changes', '--follow', '--json'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const waitFor = async (check: () => boolean, what: string) => {
      for (let i = 0; i < 400 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      if (!check()) throw new Error(`timed out waiting for ${what}; stdout: ${stdout}; stderr: ${stderr}`);
    };
    try {
      await waitFor(() => stderr.includes('following the change feed'), 'the follower to start');
      await deliver('AppRemoved', 'cli-a');
      await waitFor(() => stdout.includes('\n'), 'the change');
      const [printed] = lines(stdout);
      expect(printed!.change).toMatchObject({ type: 'installation.removed', instanceId: 'cli-a' });
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(lines(stdout)).toHaveLength(1);
      expect(stderr).toContain(`resume with --after ${printed!.cursor}`);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
