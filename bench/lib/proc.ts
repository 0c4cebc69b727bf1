/**
 * Child processes of the benchmark: spawned, tracked, measured through /proc, and always killed
 * — on normal exit, on an error, and on SIGINT/SIGTERM.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');

export interface Tracked {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Last few KiB of stdout+stderr, for error messages. */
  tail(): string;
  exited: Promise<number | null>;
  /** Each complete stdout line. */
  onLine(fn: (line: string) => void): void;
}

const running = new Set<ChildProcess>();

export function spawnTracked(name: string, command: string, args: string[], options: SpawnOptions = {}): Tracked {
  const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'], ...options });
  if (child.pid === undefined) throw new Error(`could not spawn ${name}`);
  running.add(child);
  let tail = '';
  const keep = (chunk: Buffer | string) => {
    tail = (tail + chunk.toString()).slice(-8192);
  };
  const listeners: ((line: string) => void)[] = [];
  if (child.stdout) {
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      keep(`${line}\n`);
      for (const fn of listeners) fn(line);
    });
  }
  child.stderr?.on('data', keep);
  child.stdin?.on('error', () => {});
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? (signal ? -1 : null));
    });
    child.on('error', () => {
      running.delete(child);
      resolve(-1);
    });
  });
  return { name, child, pid: child.pid, tail: () => tail, exited, onLine: (fn) => listeners.push(fn) };
}

/** SIGTERM, then SIGKILL after the grace period. Returns how it ended. */
export async function stopChild(tracked: Tracked, graceMs = 3000): Promise<{ ms: number; killed: boolean; code: number | null }> {
  const { child } = tracked;
  const started = performance.now();
  if (child.exitCode !== null || child.signalCode !== null) return { ms: 0, killed: false, code: child.exitCode };
  let killed = false;
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, graceMs);
  const code = await tracked.exited;
  clearTimeout(timer);
  return { ms: performance.now() - started, killed, code };
}

/** Kills every child still running, synchronously (usable from process.on('exit')). */
export function killAllChildren(): void {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
}

let installed = false;
/** Children die with the orchestrator, however it ends. `cleanup` runs once, synchronously. */
export function installCleanup(cleanup: () => void = () => {}): void {
  if (installed) return;
  installed = true;
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    killAllChildren();
    try {
      cleanup();
    } catch {
      // best effort
    }
  };
  process.on('exit', once);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\n${signal}: stopping every benchmark process\n`);
      once();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`${err.stack ?? String(err)}\n`);
    once();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    once();
    process.exit(1);
  });
}

/** A port nothing listens on right now (127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls url until it answers 200; returns the ms it took. Fails if the child exits first. */
export async function waitForHttp200(url: string, tracked: Tracked, timeoutMs = 60_000, intervalMs = 10): Promise<number> {
  const started = performance.now();
  let exited = false;
  void tracked.exited.then(() => (exited = true));
  while (performance.now() - started < timeoutMs) {
    if (exited) throw new Error(`${tracked.name} exited before it was ready:\n${tracked.tail()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - started;
    } catch {
      // not listening yet
    }
    await sleep(intervalMs);
  }
  throw new Error(`${tracked.name} was not ready at ${url} within ${timeoutMs} ms:\n${tracked.tail()}`);
}

/** Waits for the {"port":N} line a reference server prints when it listens. */
export function waitForPortLine(tracked: Tracked, timeoutMs = 60_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${tracked.name} printed no port within ${timeoutMs} ms:\n${tracked.tail()}`)),
      timeoutMs,
    );
    void tracked.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${tracked.name} exited (${code}) before it was ready:\n${tracked.tail()}`));
    });
    tracked.onLine((line) => {
      try {
        const value = JSON.parse(line) as { port?: unknown };
        if (typeof value.port === 'number') {
          clearTimeout(timer);
          resolve(value.port);
        }
      } catch {
        // not the port line
      }
    });
  });
}

// ---- /proc ------------------------------------------------------------------------------

/** Linux reports utime/stime in clock ticks; _SC_CLK_TCK is 100 on every mainstream kernel. */
const clockTicks = Number(process.env.BENCH_CLK_TCK) || 100;

/** utime+stime of a process, in seconds of CPU. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the ")": state is field 3, so utime (14) and stime (15) are at indexes 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** Resident set size in MB (VmRSS). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) / 1024 : 0;
}

/**
 * The main thread's scheduler figures (/proc/<pid>/schedstat): ns on a CPU and ns runnable but
 * waiting for one. The main thread is where the event loop runs.
 */
export function mainThreadSchedNs(pid: number): { onCpu: number; waiting: number } {
  const [onCpu, waiting] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
  return { onCpu: onCpu ?? 0, waiting: waiting ?? 0 };
}

export interface MeterReading {
  /** utime+stime of all threads ÷ wall time (100 = one core busy). */
  cpuPercent: number;
  cpuSeconds: number;
  maxRssMb: number;
  /**
   * Share of wall time the main thread was runnable but waiting for a CPU: high on a busy,
   * shared machine (the server was starved, not slow).
   */
  runQueueWaitPercent: number;
}

/** CPU% (of one core) and max RSS of a process between start() and stop(). */
export function processMeter(pid: number, sampleMs = 200) {
  let cpuStart = 0;
  let schedStart = { onCpu: 0, waiting: 0 };
  let wallStart = 0;
  let maxRss = 0;
  let timer: NodeJS.Timeout | null = null;
  const sample = () => {
    try {
      maxRss = Math.max(maxRss, rssMb(pid));
    } catch {
      // process gone
    }
  };
  return {
    start() {
      cpuStart = cpuSeconds(pid);
      try {
        schedStart = mainThreadSchedNs(pid);
      } catch {
        // no schedstat on this kernel
      }
      wallStart = performance.now();
      maxRss = 0;
      sample();
      timer = setInterval(sample, sampleMs);
    },
    stop(): MeterReading {
      if (timer) clearInterval(timer);
      timer = null;
      sample();
      const wall = (performance.now() - wallStart) / 1000;
      let cpu = 0;
      let waiting = 0;
      try {
        cpu = cpuSeconds(pid) - cpuStart;
        waiting = (mainThreadSchedNs(pid).waiting - schedStart.waiting) / 1e9;
      } catch {
        // process gone
      }
      return {
        cpuPercent: wall > 0 ? (cpu / wall) * 100 : 0,
        cpuSeconds: cpu,
        maxRssMb: maxRss,
        runQueueWaitPercent: wall > 0 ? (waiting / wall) * 100 : 0,
      };
    },
  };
}
