/**
 * `wix-registry import` and `wix-registry reconcile` as a user runs them: real processes against
 * a real database file, beside a registry, with the fake Wix over HTTP. Exit codes and summaries.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { REPO_ROOT } from '../helpers/process.ts';
import { createTestRegistry, rowCounts, TEST_APP_ID, TEST_APP_SECRET, type TestRegistry } from '../helpers/registry.ts';

const run = promisify(execFile);
const ID = (n: number) => `7c0f3a2e-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('CLI: import and reconcile', () => {
  let wix: RunningFakeWix;
  let t: TestRegistry;
  let env: Record<string, string>;
  const cli = async (args: string[], extra: Record<string, string> = {}) => {
    try {
      const { stdout, stderr } = await run(process.execPath, ['bin/wix-registry.js', ...args], {
        cwd: REPO_ROOT,
        env: { ...env, ...extra },
        timeout: 30_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    wix = await startFakeWix();
    t = await createTestRegistry({ wixApiBaseUrl: wix.url, now: Date.now() });
    env = {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: t.databaseUrl,
      WIX_APP_ID: TEST_APP_ID,
      WIX_APP_SECRET: TEST_APP_SECRET,
      WIX_PUBLIC_KEY: t.signer.publicKeyPem,
      WIX_API_BASE_URL: wix.url,
      RECONCILE_RATE_PER_SEC: '100',
    };
    expect(
      (await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId: ID(1), iat: Math.floor(Date.now() / 1000) - 60 })))
        .status,
    ).toBe(200);
  });
  afterAll(async () => {
    await t.close();
    await wix.close();
  });

  it('import: a CSV with a header, blank lines and duplicates; --json; known ids skipped; a second run changes nothing', async () => {
    wix.fake.markRemoved(ID(3));
    const file = join(t.dir, 'installs.csv');
    writeFileSync(file, `siteName,instanceId\r\nKnown,${ID(1)}\r\nNew,${ID(2)}\r\n\r\nGone,${ID(3)}\r\nNew again,${ID(2)}\r\n`);
    const first = await cli(['import', file, '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      file,
      format: 'csv',
      ids: 3,
      duplicates: 1,
      imported: 2,
      active: 1,
      removed: 1,
      failed: 0,
      skipped: 1,
      configure: false,
      stoppedEarly: false,
      reason: null,
    });
    expect((await t.store.installations.get(ID(2)))!.status).toBe('active');
    expect((await t.store.installations.get(ID(3)))!.status).toBe('removed');
    const before = await rowCounts(t.db);
    const second = await cli(['import', file]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('imported 0: active 0, removed 0, failed 0; skipped 3 (already known)');
    expect(await rowCounts(t.db)).toEqual(before);
  });

  it('import: NDJSON; a file with lines that are not ids imports nothing and names them', async () => {
    const good = join(t.dir, 'installs.ndjson');
    writeFileSync(good, `{"instanceId":"${ID(4)}"}\n\n{"instanceId":"${ID(5)}","plan":"pro"}\n`);
    expect(JSON.parse((await cli(['import', good, '--json'])).stdout)).toMatchObject({ format: 'ndjson', imported: 2, active: 2 });
    const bad = join(t.dir, 'bad.ndjson');
    writeFileSync(bad, `{"instanceId":"${ID(6)}"}\n{"id":"x"}\n`);
    const result = await cli(['import', bad]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('line 2: no "instanceId" string');
    expect(await t.store.installations.get(ID(6))).toBeNull();
  });

  it('reconcile: repairs a missed removal; --json summary; exit 0', async () => {
    wix.fake.markRemoved(ID(4));
    const result = await cli(['reconcile', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ removed: 1, failed: 0, stoppedEarly: false, reason: null });
    expect((await t.store.installations.get(ID(4)))!.status).toBe('removed');
  });

  it('reconcile: a wrong app secret or Wix failing changes nothing and exits non-zero with the reason', async () => {
    const before = await rowCounts(t.db);
    const wrong = await cli(['reconcile', '--json'], { WIX_APP_SECRET: 'not-the-secret' });
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ removed: 0, stoppedEarly: true });
    expect(wrong.stderr).toMatch(/stopped early for safety: .*WIX_APP_SECRET/);

    wix.fake.fail('token', ...Array.from({ length: 10 }, () => ({ kind: 'status' as const, status: 500 })));
    const failing = await cli(['reconcile']);
    wix.fake.clearFaults();
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(/stopped early for safety: Wix is not answering .*500/);
    expect(await rowCounts(t.db)).toEqual(before);
  });

  it('reconcile --instance: an unknown instance is refused with a pointer to import', async () => {
    const result = await cli(['reconcile', '--instance', 'never-seen']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('wix-registry import');
  });
});
