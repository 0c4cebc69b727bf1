import { describe, expect, it } from 'vitest';
import { onServerCore, parseCpuList, planPinning } from '../../bench/lib/pinning.ts';
import { parseSettings, SECTIONS, UsageError } from '../../bench/lib/settings.ts';

describe('bench settings', () => {
  it('runs every section, interference included, on SQLite by default', () => {
    const settings = parseSettings([]);
    expect(settings.sections).toEqual(['ingest', 'tokens', 'queries', 'interference', 'soak', 'retention']);
    expect(settings.retention.deliveries).toBe(10_000);
    expect(parseSettings(['--quick']).retention.deliveries).toBe(2_500);
    expect(settings.engines).toEqual(['sqlite']);
    expect(settings.runs).toBe(3);
    expect(settings.interference).toMatchObject({ probeIntervalMs: 25, listLoops: 20, listLimit: 500, installations: 1_000_000 });
  });

  it('accepts --only=interference, a comma list in the canonical order, --engine and --runs', () => {
    expect(parseSettings(['--only=interference']).sections).toEqual(['interference']);
    expect(parseSettings(['--only=soak,ingest']).sections).toEqual(['ingest', 'soak']);
    expect(parseSettings(['--engine=postgres']).engines).toEqual(['postgres']);
    expect(parseSettings(['--engine=both']).engines).toEqual(['sqlite', 'postgres']);
    expect(parseSettings(['--engine=postgres,sqlite']).engines).toEqual(['sqlite', 'postgres']);
    const quick = parseSettings(['--quick', '--runs=2']);
    expect(quick.runs).toBe(2);
    expect(quick.interference.windowSec).toBeLessThan(parseSettings([]).interference.windowSec);
  });

  it('refuses unknown sections, engines and flags, naming what it expected', () => {
    expect(() => parseSettings(['--only=interferance'])).toThrow(UsageError);
    expect(() => parseSettings(['--only='])).toThrow(/--only/);
    expect(() => parseSettings(['--engine=mysql'])).toThrow(/sqlite\|postgres/);
    expect(() => parseSettings(['--runs=0'])).toThrow(UsageError);
    expect(() => parseSettings(['--fast'])).toThrow(new RegExp(SECTIONS.join('\\|')));
  });
});

describe('bench CPU pinning', () => {
  it('reads kernel CPU lists', () => {
    expect(parseCpuList('0-2,5\n')).toEqual([0, 1, 2, 5]);
    expect(parseCpuList('1')).toEqual([1]);
  });

  it('puts the servers on one core and the load on the others', () => {
    const pinning = planPinning({ taskset: 'taskset', cpus: [0, 1] });
    expect(pinning).toMatchObject({ pinned: true, serverCpu: 1, loadCpus: [0] });
    expect(onServerCore(pinning, '/usr/bin/node', ['serve'])).toEqual({ command: 'taskset', args: ['-c', '1', '/usr/bin/node', 'serve'] });
    expect(planPinning({ taskset: 'taskset', cpus: [0, 1, 2, 3] })).toMatchObject({ serverCpu: 3, loadCpus: [0, 1, 2] });
  });

  it('says loudly when it cannot pin, and then runs the command as it is', () => {
    const missing = planPinning({ taskset: null, cpus: [0, 1] });
    expect(missing.pinned).toBe(false);
    expect(missing.description).toMatch(/^NOT PINNED: taskset not found/);
    expect(onServerCore(missing, '/usr/bin/node', ['serve'])).toEqual({ command: '/usr/bin/node', args: ['serve'] });
    expect(planPinning({ taskset: 'taskset', cpus: [0] }).description).toMatch(/^NOT PINNED: only 1 CPU/);
  });
});
