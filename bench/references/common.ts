/**
 * What the reference servers share: where they listen, how they announce it, and how they end.
 * Not used by the registry itself.
 */
import type { ServerType } from '@hono/node-server';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** --port=N, then PORT, then 0 (any free port). */
export function portFromArgs(): number {
  const arg = process.argv.find((a) => a.startsWith('--port='));
  const value = arg ? arg.slice('--port='.length) : process.env.PORT;
  const port = value ? Number(value) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`bad port ${value}`);
  return port;
}

/** --db=path, then DATABASE_PATH, else a throwaway file removed on exit. */
export function throwawayDbPath(name: string): string {
  const arg = process.argv.find((a) => a.startsWith('--db='));
  const given = arg ? arg.slice('--db='.length) : process.env.DATABASE_PATH;
  if (given) return given;
  const dir = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return join(dir, `${name}.db`);
}

/** The readiness line the orchestrator waits for. */
export function announce(port: number): void {
  process.stdout.write(`${JSON.stringify({ port })}\n`);
}

/**
 * Ends cleanly on SIGTERM/SIGINT, and, when started by the orchestrator (BENCH_PARENT_STDIN=1,
 * stdin a pipe from it), as soon as that pipe closes: the orchestrator is gone.
 */
export function exitWith(server: ServerType, onClose: () => void = () => {}): void {
  let closing = false;
  const close = () => {
    if (closing) return;
    closing = true;
    (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    server.close();
    onClose();
    process.exit(0);
  };
  process.on('SIGTERM', close);
  process.on('SIGINT', close);
  if (process.env.BENCH_PARENT_STDIN === '1') {
    process.stdin.on('end', close);
    process.stdin.on('error', close);
    process.stdin.resume();
  }
}
