import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * What a database thread runs. The source is TypeScript and the project has no build step; a
 * worker thread does not inherit the main thread's TypeScript loader, and registering tsx in each
 * thread starts a loader-hooks thread (a V8 isolate of its own) beside it: about twice the memory
 * and start-up time per database thread. So each thread's code is bundled once with esbuild (which
 * tsx itself uses) into the cache folder under node_modules, keyed by the content of every source
 * file in the bundle, and rebuilt when one changes. Packages stay imports, resolved from
 * node_modules as usual. Should bundling be impossible (a read-only install, no esbuild), threads
 * fall back to the tsx bootstrap.
 */

export type ThreadKind = 'writer' | 'reader';

const SOURCES: Record<ThreadKind, string> = {
  writer: fileURLToPath(new URL('./writer-thread.ts', import.meta.url)),
  reader: fileURLToPath(new URL('./reader-thread.ts', import.meta.url)),
};
const BOOTSTRAP = new URL('./bootstrap.mjs', import.meta.url);
const PROJECT_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CACHE_DIR = join(PROJECT_ROOT, 'node_modules', '.cache', 'wix-registry', 'threads');
const MANIFEST = join(CACHE_DIR, 'manifest.json');

interface Manifest {
  /** Folder of the bundles, under CACHE_DIR. */
  folder: string;
  /** Every source file in the bundles (relative to the project root) and its content hash. */
  inputs: Record<string, string>;
}

export interface ThreadCode {
  /** The module a Worker starts with. */
  file: URL;
  /** Added to the thread's workerData (the tsx bootstrap needs to know what to load). */
  data: Record<string, unknown>;
}

let bundled: Promise<Record<ThreadKind, URL> | null> | undefined;

/** The code of a thread: the bundle when it can be had, else the tsx bootstrap. */
export async function threadCode(kind: ThreadKind): Promise<ThreadCode> {
  bundled ??= bundleThreads().catch(() => null);
  const bundles = await bundled;
  if (bundles) return { file: bundles[kind], data: {} };
  return { file: BOOTSTRAP, data: { entry: pathToFileURL(SOURCES[kind]).href } };
}

const hashOf = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The cached bundles if every input is unchanged, else a fresh build (several processes may build at once). */
async function bundleThreads(): Promise<Record<ThreadKind, URL>> {
  const cached = readManifest();
  if (
    cached &&
    Object.entries(cached.inputs).every(([file, hash]) => existsSync(join(PROJECT_ROOT, file)) && hashOf(join(PROJECT_ROOT, file)) === hash)
  ) {
    return urlsIn(join(CACHE_DIR, cached.folder));
  }
  const { build } = await import('esbuild');
  const staging = join(CACHE_DIR, `building-${process.pid}-${randomBytes(4).toString('hex')}`);
  const result = await build({
    entryPoints: SOURCES,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outdir: staging,
    outExtension: { '.js': '.mjs' },
    sourcemap: 'inline',
    metafile: true,
    absWorkingDir: PROJECT_ROOT,
    logLevel: 'silent',
  });
  // Input paths are relative to the project root (absWorkingDir).
  const inputs = Object.fromEntries(Object.keys(result.metafile.inputs).map((file) => [file, hashOf(join(PROJECT_ROOT, file))]));
  const folder = createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
  const target = join(CACHE_DIR, folder);
  if (existsSync(target)) rmSync(staging, { recursive: true, force: true });
  else {
    try {
      renameSync(staging, target);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another process got there first
    }
  }
  const manifest = `${MANIFEST}.${process.pid}`;
  writeFileSync(manifest, JSON.stringify({ folder, inputs } satisfies Manifest));
  renameSync(manifest, MANIFEST);
  return urlsIn(target);
}

function readManifest(): Manifest | null {
  try {
    return JSON.parse(readFileSync(MANIFEST, 'utf8')) as Manifest;
  } catch {
    mkdirSync(dirname(MANIFEST), { recursive: true });
    return null;
  }
}

function urlsIn(folder: string): Record<ThreadKind, URL> {
  const urls = { writer: pathToFileURL(join(folder, 'writer.mjs')), reader: pathToFileURL(join(folder, 'reader.mjs')) };
  if (!existsSync(urls.writer) || !existsSync(urls.reader)) throw new Error('thread bundles missing');
  return urls;
}
