/**
 * CPU pinning (issue 8): every server under test (the registry, the minimal receiver, the docs
 * baseline, hello world) runs on one and the same core, and the load generators, the other
 * clients and this orchestrator (which also serves the fake Wix) on the others. The server then
 * competes with nothing but itself, as in a 1-vCPU container, and the load never steals its CPU.
 *
 * Pinning uses `taskset` (util-linux): children are started as `taskset -c <core> node …`
 * (taskset execs, so the pid is the server's own), and the orchestrator pins itself, all its
 * threads, to the load cores at start; the processes it spawns afterwards inherit that.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Pinning {
  pinned: boolean;
  /** The one core every server under test runs on (null: unpinned). */
  serverCpu: number | null;
  /** Cores of the orchestrator, the load generators and the other clients. */
  loadCpus: number[];
  /** What the report says about it. */
  description: string;
}

/** Parses a kernel CPU list ("0-3,6"), as in /proc/self/status Cpus_allowed_list. */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.trim().split(',').filter(Boolean)) {
    const [from, to] = part.split('-').map(Number);
    if (from === undefined || !Number.isInteger(from)) continue;
    for (let cpu = from; cpu <= (to ?? from); cpu++) cpus.push(cpu);
  }
  return cpus;
}

/** The CPUs this process may run on. */
export function allowedCpus(): number[] {
  try {
    const match = /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return parseCpuList(match[1]!);
  } catch {
    // not Linux
  }
  return [];
}

/** The path of taskset, or null when it is not installed. */
export function findTaskset(): string | null {
  const found = spawnSync('taskset', ['--version'], { stdio: 'ignore' });
  return found.error || found.status !== 0 ? null : 'taskset';
}

/** Servers on the last allowed core, everything else on the rest. */
export function planPinning(options: { taskset: string | null; cpus: readonly number[] }): Pinning {
  const { taskset, cpus } = options;
  if (!taskset) {
    return {
      pinned: false,
      serverCpu: null,
      loadCpus: [...cpus],
      description: 'NOT PINNED: taskset not found (install util-linux); servers and load share every core',
    };
  }
  if (cpus.length < 2) {
    return {
      pinned: false,
      serverCpu: null,
      loadCpus: [...cpus],
      description: `NOT PINNED: only ${cpus.length} CPU allowed; servers and load share it`,
    };
  }
  const serverCpu = cpus[cpus.length - 1]!;
  const loadCpus = cpus.slice(0, -1);
  return {
    pinned: true,
    serverCpu,
    loadCpus,
    description: `servers under test on CPU ${serverCpu}; load generators, clients, orchestrator and fake Wix on CPU ${loadCpus.join(',')}`,
  };
}

/** Pins this process, every thread of it, to the load cores; children inherit it. */
export function pinSelf(pinning: Pinning): void {
  if (!pinning.pinned) return;
  const result = spawnSync('taskset', ['-a', '-p', '-c', pinning.loadCpus.join(','), String(process.pid)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`taskset could not pin the orchestrator: ${result.stderr}`);
}

/** The command line that runs `command args` on the server core (unchanged when unpinned). */
export function onServerCore(pinning: Pinning, command: string, args: readonly string[]): { command: string; args: string[] } {
  if (!pinning.pinned) return { command, args: [...args] };
  return { command: 'taskset', args: ['-c', String(pinning.serverCpu), command, ...args] };
}

/** The CPUs a running process may use, read back from the kernel (to check that pinning held). */
export function cpusOf(pid: number): number[] {
  const match = /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? parseCpuList(match[1]!) : [];
}
