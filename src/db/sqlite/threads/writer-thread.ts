/**
 * The writer thread: owns the only write connection. Batches arrive as messages; whatever has
 * queued up while a transaction was committing is merged into the next one (group commit across
 * everything the main thread sent meanwhile: webhooks, outbox outcomes, token audit rows). The
 * fsync and the checkpoints happen here, never on the event loop.
 */
import { parentPort, receiveMessageOnPort } from 'node:worker_threads';
import type { WriteCommand } from '../../commands.ts';
import { serializeError } from '../errors.ts';
import { CHECKPOINT_INTERVAL_MS, createSqliteWriter, GROUP_COMMIT_MAX_COMMANDS, type SqliteWriter } from '../writer.ts';
import type { FromWriter, ToWriter } from './protocol.ts';

const port = parentPort!;
const send = (message: FromWriter) => port.postMessage(message);

let writer: SqliteWriter | null = null;
const queue: ToWriter[] = [];
let draining = false;
let lastBatchAt = 0;

port.on('message', (message: ToWriter) => {
  queue.push(message);
  if (!draining) void drain();
});
send({ type: 'loaded' });

type Batch = Extract<ToWriter, { type: 'batch' }>;

async function drain(): Promise<void> {
  draining = true;
  for (;;) {
    // Everything already sent joins this round, without waiting for another event-loop turn.
    for (let next = receiveMessageOnPort(port); next; next = receiveMessageOnPort(port)) queue.push(next.message as ToWriter);
    const message = queue.shift();
    if (!message) break;
    if (message.type === 'open') {
      try {
        writer = createSqliteWriter(message.path, { busyTimeoutMs: message.busyTimeoutMs, migrationsDir: message.migrationsDir });
        send({ type: 'opened', pragmas: writer.pragmas() });
      } catch (error) {
        writer = null;
        send({ type: 'failed', error: serializeError(error) });
      }
    } else if (message.type === 'close') {
      writer?.close();
      writer = null;
      send({ type: 'closed' });
    } else if (message.type === 'pragma') {
      try {
        send({ type: 'pragma', seq: message.seq, ok: true, value: writer!.pragma(message.text) });
      } catch (error) {
        send({ type: 'pragma', seq: message.seq, ok: false, error: serializeError(error) });
      }
    } else {
      await commit(message);
    }
  }
  draining = false;
}

/** One transaction for this batch and every batch queued behind it, up to the size limit. */
async function commit(first: Batch): Promise<void> {
  const batches = [first];
  let size = first.commands.length;
  while (queue[0]?.type === 'batch' && size + queue[0].commands.length <= GROUP_COMMIT_MAX_COMMANDS) {
    const next = queue.shift() as Batch;
    batches.push(next);
    size += next.commands.length;
  }
  const commands: WriteCommand[] = batches.flatMap((b) => b.commands);
  const { outcomes, appendedPosition } = writer
    ? await writer.runBatch(commands)
    : {
        outcomes: commands.map(() => ({ ok: false as const, error: serializeError(new Error('the writer has no database open')) })),
        appendedPosition: 0,
      };
  lastBatchAt = performance.now();
  let offset = 0;
  for (const batch of batches) {
    const part = outcomes.slice(offset, offset + batch.commands.length);
    // The transaction's new changes are announced once, with its first batch.
    send({
      type: 'done',
      seq: batch.seq,
      outcomes: part,
      transactionSize: commands.length,
      firstOfTransaction: offset === 0,
      appendedPosition: offset === 0 ? appendedPosition : 0,
    });
    offset += batch.commands.length;
  }
  // Under a load that never lets the writer idle, the index still keeps up within a bound (after
  // the answers have gone, so no webhook waits for it).
  if (writer?.searchBacklogHigh()) writer.indexSearch();
}

// Checkpoints when the writer has been idle for a moment: a commit never carries one.
setInterval(() => {
  if (!draining && performance.now() - lastBatchAt > CHECKPOINT_INTERVAL_MS / 4) writer?.checkpoint();
}, CHECKPOINT_INTERVAL_MS).unref();

// The search index catches up when nothing is waiting, a slice per turn, so a batch that arrives
// meanwhile waits for one slice at most (src/db/sqlite/search-index.ts).
const SEARCH_INDEX_IDLE_MS = 100;
function indexWhileIdle(): void {
  if (draining || queue.length > 0 || !writer) return;
  if (writer.indexSearch()) setImmediate(indexWhileIdle);
}
setInterval(() => {
  if (performance.now() - lastBatchAt > SEARCH_INDEX_IDLE_MS) indexWhileIdle();
}, SEARCH_INDEX_IDLE_MS).unref();
