/**
 * Client processes (bench/clients/*.ts) other than autocannon: each loads, prints
 * {"event":"ready"}, waits for "go" on stdin, works, and prints {"event":"result","result":…}.
 * Starting several and then saying "go" to all lines them up without counting their load time.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from './load-client.ts';
import { spawnTracked, stopChild, type Tracked } from './proc.ts';

export interface ClientProcess<R> {
  tracked: Tracked;
  /** Resolves once the client has loaded. */
  ready: Promise<void>;
  go(): void;
  /** Asks the client to stop early (it still prints its result). */
  stop(): void;
  /** The client's result (rejects if it exits without one). */
  result: Promise<R>;
  kill(): Promise<void>;
}

let specCounter = 0;

export function startClient<R>(name: string, script: string, spec: unknown): ClientProcess<R> {
  const specFile = join(scratchDir(), `client-${++specCounter}.json`);
  writeFileSync(specFile, JSON.stringify(spec));
  const tracked = spawnTracked(name, process.execPath, ['bin/run-ts.js', script, specFile]);
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  let result: R | undefined;
  tracked.onLine((line) => {
    let message: { event?: string; result?: R };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      return;
    }
    if (message.event === 'ready') onReady();
    else if (message.event === 'result') result = message.result;
  });
  const done = tracked.exited.then((code) => {
    if (code !== 0 || result === undefined) throw new Error(`${name} failed (exit ${code}):\n${tracked.tail()}`);
    return result;
  });
  return {
    tracked,
    ready: Promise.race([ready, done.then(() => {})]),
    go: () => tracked.child.stdin?.write('go\n'),
    stop: () => tracked.child.stdin?.write('stop\n'),
    result: done,
    kill: async () => {
      await stopChild(tracked, 2_000);
    },
  };
}

/**
 * The client side of the protocol: ready, wait for go, run, print the result, exit. A "stop"
 * line aborts the signal given to `run`.
 */
export async function serveClient<S, R>(run: (spec: S, signal: AbortSignal) => Promise<R>): Promise<void> {
  const { readFileSync } = await import('node:fs');
  const specFile = process.argv[2];
  if (!specFile) throw new Error('usage: <client>.ts <spec.json>');
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as S;
  const stop = new AbortController();
  const go = new Promise<void>((resolve, reject) => {
    let buffered = '';
    process.stdin.on('data', (chunk) => {
      buffered += chunk.toString();
      if (buffered.includes('go\n')) resolve();
      if (buffered.includes('stop\n')) stop.abort();
    });
    // The orchestrator is gone: nothing will say go.
    process.stdin.on('end', () => reject(new Error('stdin closed before go')));
  });
  process.stdout.write(`${JSON.stringify({ event: 'ready' })}\n`);
  await go;
  const result = await run(spec, stop.signal);
  process.stdout.write(`${JSON.stringify({ event: 'result', result })}\n`);
}
