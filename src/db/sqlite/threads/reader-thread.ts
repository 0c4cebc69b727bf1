/**
 * A reader thread: one read-only connection answering queries one at a time. Its priority is
 * lowered below the event loop's and the writer's, so on a busy core reads give way: no amount of
 * read traffic takes the CPU a webhook needs.
 */
import type Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { openConnection, readPragmas } from '../connection.ts';
import { serializeError } from '../errors.ts';
import { createSqliteReads } from '../reads/index.ts';
import type { FromReader, ThreadData, ToReader } from './protocol.ts';
import { lowerThreadPriority } from './thread-priority.ts';

const port = parentPort!;
const send = (message: FromReader) => port.postMessage(message);
lowerThreadPriority((workerData as ThreadData).niceness);

let connection: Database.Database | null = null;
let reads: ReturnType<typeof createSqliteReads> | null = null;

port.on('message', (request: ToReader) => {
  if (request.type === 'open') {
    try {
      connection = openConnection(request.path, 'reader');
      reads = createSqliteReads(connection, request.reads);
      send({ type: 'opened', pragmas: readPragmas(connection) });
    } catch (error) {
      send({ type: 'failed', error: serializeError(error) });
    }
    return;
  }
  if (request.type === 'close') {
    if (connection?.open) connection.close();
    connection = null;
    reads = null;
    send({ type: 'closed' });
    return;
  }
  try {
    if (!reads) throw new Error('the reader has no database open');
    const op = request.op;
    const value = (reads[op] as (...args: unknown[]) => unknown).apply(reads, request.args);
    send({ type: 'result', id: request.id, ok: true, value });
  } catch (error) {
    send({ type: 'result', id: request.id, ok: false, error: serializeError(error) });
  }
});
send({ type: 'loaded' });
