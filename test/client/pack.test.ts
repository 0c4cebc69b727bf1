import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenLocal } from '../../src/sandbox/fake-wix.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { REPO_ROOT } from '../helpers/process.ts';
import { createTestRegistry, TEST_API_KEY, type TestRegistry } from '../helpers/registry.ts';

/**
 * The package as a service gets it: built, packed, installed from the tarball into an empty
 * folder next to @wix/sdk, and loaded by plain `node` (no TypeScript loader), as ESM and as
 * CommonJS, against a running registry and the fake Wix.
 */

const CLIENT_DIR = join(REPO_ROOT, 'client');
const rootRequire = createRequire(join(REPO_ROOT, 'package.json'));
const versionOf = (name: string) => (rootRequire(`${name}/package.json`) as { version: string }).version;

/** Runs a command without blocking the event loop (the registry under test answers from this process). */
function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Without the npm_* variables `npm test` sets (npm_config_local_prefix…), so that a nested npm
    // works on its own folder and reads its configuration from the usual files.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
    const child = spawn(command, args, { cwd: options.cwd, env: { ...inherited, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
async function mustRun(command: string, args: string[], options: { cwd: string; env?: Record<string, string> }) {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

let dir: string;
let packedFiles: string[];
let wix: RunningFakeWix;
let t: TestRegistry;
let registry: { url: string; close(): Promise<void> };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wix-registry-client-pack-'));
  // A fresh clone has no client/dist: the test builds it.
  await mustRun('npm', ['run', 'build:client'], { cwd: REPO_ROOT });
  const packed = await mustRun('npm', ['pack', '--json', '--pack-destination', dir], { cwd: CLIENT_DIR });
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  packedFiles = info!.files.map((f) => f.path).sort();

  const app = join(dir, 'service');
  rmSync(app, { recursive: true, force: true });
  await mustRun('mkdir', ['-p', app], { cwd: dir });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'a-service', version: '1.0.0', private: true }));
  // The npm cache holds @wix/* after the root's `npm ci`: the same versions install from it.
  await mustRun(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      join(dir, info!.filename),
      `@wix/sdk@${versionOf('@wix/sdk')}`,
      `@wix/app-management@${versionOf('@wix/app-management')}`,
    ],
    { cwd: app },
  );

  wix = await startFakeWix();
  t = await createTestRegistry({ wixApiBaseUrl: wix.url, now: Date.now() });
  const nowSec = Math.floor(t.clock.now() / 1000);
  for (const [instanceId, age] of [
    ['packed-1', 20],
    ['packed-2', 10],
  ] as const) {
    expect((await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId, iat: nowSec - age }))).status).toBe(200);
  }
  registry = await listenLocal(t.app);
}, 240_000);

afterAll(async () => {
  await registry?.close();
  await t?.close();
  await wix?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The same steps in both module systems: a token-backed SDK call to (fake) Wix, every installation, then the change feed. */
const body = `
  const registry = createRegistryClient({ url: process.env.REGISTRY_URL, apiKey: process.env.API_KEY, wixApiBaseUrl: process.env.WIX_URL });
  const { instance } = await registry.wixClient('packed-1', { appInstances }).appInstances.getAppInstance();
  const ids = [];
  for await (const installation of registry.installations.all({ limit: 1 })) ids.push(installation.instanceId);
  const failure = await registry.accessToken('nobody').catch((e) => e);
  const changes = [];
  for await (const { change, cursor } of registry.changes({ waitSeconds: 1 })) {
    changes.push([change.type, change.instanceId, typeof cursor]);
    if (changes.length === 2) break;
  }
  console.log(JSON.stringify({ instanceId: instance.instanceId, ids, failure: [failure instanceof RegistryError, failure.kind, failure.status], changes }));
`;

describe('the packed wix-registry-client', () => {
  it('holds the build, its declarations, the README and package.json, and nothing else', () => {
    expect(packedFiles).toEqual(['README.md', 'dist/index.cjs', 'dist/index.d.cts', 'dist/index.d.ts', 'dist/index.js', 'package.json']);
  });

  it('installs without SQLite, Hono or anything else of the registry', () => {
    const modules = join(dir, 'service', 'node_modules');
    expect(existsSync(join(modules, 'wix-registry-client', 'dist', 'index.js'))).toBe(true);
    for (const name of ['better-sqlite3', 'hono', '@hono/node-server', 'drizzle-orm', 'pino', 'tsx'])
      expect(existsSync(join(modules, name))).toBe(false);
    const manifest = JSON.parse(readFileSync(join(modules, 'wix-registry-client', 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.dependencies).toBeUndefined();
    expect(manifest.peerDependencies).toEqual({ '@wix/sdk': expect.any(String) });
  });

  it.each([
    [
      'ESM import',
      'service.mjs',
      `import { createRegistryClient, RegistryError } from 'wix-registry-client';\nimport { appInstances } from '@wix/app-management';\n${body}`,
    ],
    [
      'CommonJS require',
      'service.cjs',
      `const { createRegistryClient, RegistryError } = require('wix-registry-client');\nconst { appInstances } = require('@wix/app-management');\n(async () => {${body}})().catch((e) => { console.error(e); process.exit(1); });`,
    ],
  ])('runs from plain node (%s) against a running registry', async (_, file, source) => {
    const app = join(dir, 'service');
    writeFileSync(join(app, file), source);
    const result = await run(process.execPath, [file], {
      cwd: app,
      env: { REGISTRY_URL: registry.url, API_KEY: TEST_API_KEY, WIX_URL: wix.url },
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      instanceId: 'packed-1',
      ids: ['packed-2', 'packed-1'],
      failure: [true, 'unknown_instance', 404],
      // The follower of GET /v1/changes, against the real route: both installs, in commit order.
      changes: [
        ['installation.installed', 'packed-1', 'object'],
        ['installation.installed', 'packed-2', 'string'],
      ],
    });
  });

  it('type-checks from TypeScript through both the import and the require declarations', async () => {
    const app = join(dir, 'service');
    writeFileSync(
      join(app, 'typed.mts'),
      `import { createRegistryClient, type Change, type RegistryFailureKind } from 'wix-registry-client';
import { appInstances } from '@wix/app-management';
const registry = createRegistryClient({ url: 'http://127.0.0.1:1', apiKey: 'k' });
export async function f(): Promise<string | undefined> {
  for await (const { change, cursor } of registry.changes({ after: null })) { const c: Change = change; const s: string | null = cursor; void c; void s; }
  const kind: RegistryFailureKind = 'refused'; void kind;
  return (await registry.wixClient('i', { appInstances }).appInstances.getAppInstance()).instance?.instanceId;
}
`,
    );
    writeFileSync(
      join(app, 'typed.cts'),
      `import client = require('wix-registry-client');
export const page: Promise<client.InstallationPage> = client.createRegistryClient({ url: 'http://127.0.0.1:1', apiKey: 'k' }).installations.list({ status: 'active' });
// @ts-expect-error: not a status
client.createRegistryClient({ url: 'http://127.0.0.1:1', apiKey: 'k' }).installations.list({ status: 'gone' });
`,
    );
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--lib',
        'es2023,dom',
        'typed.mts',
        'typed.cts',
      ],
      { cwd: app },
    );
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
