/**
 * The interference section's readers as their own process (lib/read-loops.ts).
 *
 *   node bin/run-ts.js bench/clients/readers.ts <spec.json>   (spec: ReadersSpec; "stop" on stdin ends it early)
 */
import { serveClient } from '../lib/client-process.ts';
import { runReaders, type ReadersSpec } from '../lib/read-loops.ts';

serveClient((spec: ReadersSpec, signal) => runReaders(spec, signal)).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`readers failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
