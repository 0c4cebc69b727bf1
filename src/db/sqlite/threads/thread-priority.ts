import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Raises this thread's nice value by `niceness` (Linux: setpriority on the thread id gives one
 * thread of a process its own priority). Elsewhere, or when not allowed, it does nothing.
 */
export function lowerThreadPriority(niceness: number): void {
  if (niceness <= 0 || process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid)) return;
    setPriority(tid, Math.min(19, getPriority(tid) + niceness));
  } catch {
    // not permitted or not supported: reads keep the normal priority
  }
}
