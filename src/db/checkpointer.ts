import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { DatabaseHandle } from './client.ts';

/** How often the background thread copies committed WAL frames into the database file. */
export const CHECKPOINT_INTERVAL_MS = 1_000;
/**
 * The server's own connection checkpoints only past this many WAL pages (a safety net should the
 * background thread fall behind or die); SQLite's default of 1000 made every few group commits
 * carry a checkpoint on the main thread.
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 20_000;

// Runs in a worker thread on its own connection. PASSIVE never blocks writers or readers: it
// copies what it can and leaves the rest for the next round.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: 0 });
const checkpoint = (mode) => { try { db.pragma('wal_checkpoint(' + mode + ')'); } catch { /* busy: next round */ } };
const timer = setInterval(() => checkpoint('PASSIVE'), workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpoint('PASSIVE');
  db.close();
  parentPort.postMessage('stopped');
});
`;

/**
 * Moves WAL checkpoints off the event loop. better-sqlite3 is synchronous, so a checkpoint run
 * by a commit (SQLite's auto-checkpoint) stalls every request for its duration; here a worker
 * thread does them on a second connection. Durability is unchanged: commits are durable in the
 * WAL (synchronous=FULL); checkpoints only copy them into the main file.
 */
export function startBackgroundCheckpointer(handle: DatabaseHandle, intervalMs = CHECKPOINT_INTERVAL_MS): { stop(): Promise<void> } {
  if (handle.path === ':memory:') return { stop: async () => {} };
  handle.sqlite.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, path: handle.path, intervalMs } });
  worker.unref();
  let stopped: Promise<void> | null = null;
  return {
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        const timeout = setTimeout(() => void worker.terminate().then(() => resolve()), 2_000);
        worker.once('message', () => {
          clearTimeout(timeout);
          void worker.terminate().then(() => resolve());
        });
        worker.once('error', () => resolve());
        worker.postMessage('stop');
      })),
  };
}
