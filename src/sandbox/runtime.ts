import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where a running sandbox serves its fake Wix (a free port chosen at start), written beside the
 * sandbox credentials so the CLI's `reconcile`, `import` and `simulate --silently` talk to the
 * same fake as the server: in sandbox mode the fake Wix lives inside the server process.
 */
export interface SandboxRuntime {
  fakeWixUrl: string;
  pid: number;
}

const fileIn = (dir: string) => join(dir, 'fake-wix.json');

/** The fake's own record of what happened on "Wix's side" (removed instances, changed sites). */
export const fakeWixStateFile = (dir: string) => join(dir, 'fake-wix-state.json');

export function writeSandboxRuntime(dir: string, runtime: SandboxRuntime): void {
  writeFileSync(fileIn(dir), JSON.stringify(runtime, null, 2), { mode: 0o600 });
}

export function readSandboxRuntime(dir: string): SandboxRuntime | null {
  const file = fileIn(dir);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SandboxRuntime;
  } catch {
    return null;
  }
}

/** On shutdown, only if it is still this process's. */
export function removeSandboxRuntime(dir: string, pid = process.pid): void {
  if (readSandboxRuntime(dir)?.pid === pid) rmSync(fileIn(dir), { force: true });
}
