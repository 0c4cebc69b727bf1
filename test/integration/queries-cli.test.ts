import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Installation } from '../../src/installations/serialize.ts';
import { REPO_ROOT } from '../helpers/process.ts';
import { createTestRegistry, type TestRegistry } from '../helpers/registry.ts';
import { NOW_MS, seed, standardSpecs } from './queries-seed.ts';

/**
 * `wix-registry installs list|export` and `stats daily` as a user runs them (node
 * bin/wix-registry.js, a real process) on the database the test registry filled: the CLI must
 * answer exactly what the HTTP API answers.
 */

const BIN = join(REPO_ROOT, 'bin', 'wix-registry.js');
const COMMAND_TIMEOUT_MS = 30_000;

let t: TestRegistry;

beforeAll(async () => {
  t = await createTestRegistry({ now: NOW_MS });
  await seed(t, standardSpecs());
});
afterAll(() => t.close());

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Result> {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('WIX_') && name !== 'REGISTRY_API_KEYS' && name !== 'NODE_ENV') env[name] = value;
  }
  // Empty Wix credentials (sandbox mode, so no config is needed) and our database.
  Object.assign(env, { WIX_APP_ID: '', WIX_APP_SECRET: '', WIX_PUBLIC_KEY: '', DATABASE_URL: t.databaseUrl, NODE_ENV: 'development' });
  return new Promise((resolve, reject) => {
    // cwd: the repo, as a user runs it (a .env there cannot override the variables set above).
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function api<T>(path: string): Promise<T> {
  const res = await t.api(path);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

type Page = { items: Installation[]; nextCursor: string | null };

describe('installs list', () => {
  it('--json --plan paid prints the page GET /v1/installations?plan=paid returns', async () => {
    const result = await cli(['installs', 'list', '--json', '--plan', 'paid']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const page = JSON.parse(result.stdout) as Page;
    expect(page).toEqual(await api<Page>('/v1/installations?plan=paid'));
    expect(page.items.length).toBeGreaterThan(3);
    expect(page.items.every((i) => i.plan.isFree === false || i.plan.vendorProductId !== null)).toBe(true);
  });

  it('--all follows the cursors: every row of every page, in order', async () => {
    const result = await cli([
      'installs',
      'list',
      '--json',
      '--all',
      '--limit',
      '3',
      '--sort',
      'removedAt',
      '--order',
      'asc',
      '--search',
      'WIXSITE',
    ]);
    expect(result.code).toBe(0);
    const all = JSON.parse(result.stdout) as Page;
    expect(all.nextCursor).toBeNull();
    const expected = await api<Page>('/v1/installations?limit=500&sort=removedAt&order=asc&q=WIXSITE');
    expect(all.items).toEqual(expected.items);
    expect(all.items.length).toBeGreaterThan(3);
  });

  it('prints a table with the filters applied', async () => {
    const result = await cli([
      'installs',
      'list',
      '--status',
      'removed',
      '--installed-from',
      '2026-09-05',
      '--removed-to',
      '2026-09-30T00:00:00Z',
    ]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^INSTANCE\s+STATUS\s+INSTALLED\s+REMOVED\s+PLAN\s+SITE$/);
    const expected = await api<Page>('/v1/installations?status=removed&installedFrom=2026-09-05&removedTo=2026-09-30T00:00:00Z');
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(expected.items.map((i) => i.instanceId));
    // A site name with a line break stays on its row, escaped.
    expect(result.stdout).toContain('Line\\nbreak');
  });

  it('a bad option value exits 1 naming the flag, not the API parameter', async () => {
    const result = await cli(['installs', 'list', '--installed-from', 'yesterday']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--installed-from');
    expect(result.stdout).toBe('');
    const choices = await cli(['installs', 'list', '--sort', 'name']);
    expect(choices.code).not.toBe(0);
    expect(choices.stderr).toMatch(/installedAt, removedAt, updatedAt|Allowed choices/);
  });
});

describe('installs export', () => {
  it('--format csv writes to stdout exactly what GET /v1/installations/export?format=csv serves', async () => {
    const result = await cli(['installs', 'export', '--format', 'csv']);
    expect(result.code).toBe(0);
    const http = await (await t.api('/v1/installations/export?format=csv')).text();
    expect(result.stdout).toBe(http);
    expect(result.stdout.split('\r\n')[0]).toBe(
      'instanceId,appId,status,installedAt,removedAt,updatedAt,originInstanceId,configuredAt,siteId,siteName,siteUrl,planVendorProductId,planCycle,isFree,appVersion',
    );
    expect(result.stdout).toContain('"Bob\'s ""Best"", Bakery"');
  });

  it('NDJSON with filters to a file (--output)', async () => {
    const file = join(t.dir, 'removed.ndjson');
    const result = await cli(['installs', 'export', '--status', 'removed', '--sort', 'updatedAt', '--output', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(file);
    const http = await (await t.api('/v1/installations/export?status=removed&sort=updatedAt')).text();
    expect(readFileSync(file, 'utf8')).toBe(http);
    expect(http.trimEnd().split('\n').length).toBeGreaterThan(5);
  });
});

describe('stats daily', () => {
  it('--json prints what GET /v1/stats/daily returns', async () => {
    const result = await cli(['stats', 'daily', '--from', '2026-09-01', '--to', '2026-09-15', '--json']);
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout) as { days: unknown[] };
    expect(body).toEqual(await api('/v1/stats/daily?from=2026-09-01&to=2026-09-15'));
    expect(body.days).toHaveLength(14);
  });

  it('prints a table and the churn line by default; a bad date exits 1', async () => {
    const result = await cli(['stats', 'daily', '--from', '2026-09-01', '--to', '2026-09-04']);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^DATE\s+INSTALLS\s+REMOVALS\s+NET\s+ACTIVE$/);
    expect(lines[1]).toMatch(/^2026-09-01\s+3\s+\d+\s+[+-]?\d+\s+\d+$/);
    expect(result.stdout).toMatch(/churn of the 9 installs from 2026-09-01 to 2026-09-04/);
    const bad = await cli(['stats', 'daily', '--from', '2026-9-1']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--from');
  });
});
