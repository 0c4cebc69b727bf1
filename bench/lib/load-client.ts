/** Runs bench/clients/load.ts as its own process against a server (or its replicas) and meters them meanwhile. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadResult, LoadSpec } from '../clients/load.ts';
import { processMeter, spawnTracked, type MeterReading } from './proc.ts';

export type { LoadResult, LoadSpec };

export interface MeteredResult extends LoadResult {
  /** CPU% of the server process (100 = one core) over the measured phase; replicas: their sum. */
  cpuPercent: number;
  /** Max VmRSS of the server sampled over the measured phase, MB; replicas: the largest one's. */
  rssMb: number;
  /**
   * Server CPU time per response, ms. Unlike req/s this hardly depends on how much of the
   * machine other processes take, so it is the figure to compare on a shared machine.
   */
  cpuMsPerRequest: number;
  /** Share of the window the server's main thread waited for a CPU (see processMeter); replicas: the most any waited. */
  runQueueWaitPercent: number;
}

let scratch: string | null = null;
/** A temp dir for spec and body files, removed on exit. */
export function scratchDir(): string {
  if (!scratch) {
    scratch = mkdtempSync(join(tmpdir(), 'wix-registry-bench-'));
    const dir = scratch;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return scratch;
}

let specCounter = 0;
export function writeLines(name: string, lines: readonly string[]): string {
  const file = join(scratchDir(), name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/**
 * Spawns the load generator; meters the server between its measure-start and measure-end: one
 * pid, or the pids of replicas (spec.urls), whose CPU adds up (PostgreSQL's own processes are not
 * counted: they are not the registry's).
 */
export async function runLoad(spec: LoadSpec, serverPid: number | readonly number[] | null): Promise<MeteredResult> {
  const specFile = join(scratchDir(), `spec-${++specCounter}.json`);
  writeFileSync(specFile, JSON.stringify(spec));
  const load = spawnTracked('load generator', process.execPath, ['bin/run-ts.js', 'bench/clients/load.ts', specFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pids = serverPid === null ? [] : typeof serverPid === 'number' ? [serverPid] : [...serverPid];
  const meters = pids.map((pid) => processMeter(pid));
  const meter =
    meters.length === 0
      ? null
      : {
          start: () => meters.forEach((m) => m.start()),
          stop: (): MeterReading => {
            const readings = meters.map((m) => m.stop());
            return {
              cpuPercent: readings.reduce((n, r) => n + r.cpuPercent, 0),
              cpuSeconds: readings.reduce((n, r) => n + r.cpuSeconds, 0),
              maxRssMb: Math.max(...readings.map((r) => r.maxRssMb)),
              runQueueWaitPercent: Math.max(...readings.map((r) => r.runQueueWaitPercent)),
            };
          },
        };
  let metered: MeterReading = { cpuPercent: 0, cpuSeconds: 0, maxRssMb: 0, runQueueWaitPercent: 0 };
  let result: LoadResult | null = null;
  load.onLine((line) => {
    let message: { event?: string; result?: LoadResult };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      return;
    }
    if (message.event === 'measure-start') meter?.start();
    else if (message.event === 'measure-end' && meter) metered = meter.stop();
    else if (message.event === 'result' && message.result) result = message.result;
  });
  const code = await load.exited;
  if (code !== 0 || !result) throw new Error(`load generator failed (exit ${code}):\n${load.tail()}`);
  const r = result as LoadResult;
  return {
    ...r,
    cpuPercent: metered.cpuPercent,
    rssMb: metered.maxRssMb,
    cpuMsPerRequest: r.requests > 0 ? (metered.cpuSeconds * 1000) / r.requests : 0,
    runQueueWaitPercent: metered.runQueueWaitPercent,
  };
}
