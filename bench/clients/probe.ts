/**
 * The interference probe as its own process (lib/probe-loop.ts), so the readers' JSON parsing
 * never delays a probe's send or the reading of its answer.
 *
 *   node bin/run-ts.js bench/clients/probe.ts <spec.json>   (spec: ProbeSpec with bodiesFile)
 */
import { readFileSync } from 'node:fs';
import { serveClient } from '../lib/client-process.ts';
import { runProbes, type ProbeSpec } from '../lib/probe-loop.ts';

type ProbeProcessSpec = Omit<ProbeSpec, 'bodies'> & { bodiesFile: string };

serveClient(async (spec: ProbeProcessSpec) => {
  const bodies = readFileSync(spec.bodiesFile, 'utf8').split('\n').filter(Boolean);
  return runProbes({ ...spec, bodies });
}).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`probe failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
