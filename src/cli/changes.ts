import type { Command } from 'commander';
import { decodeChangeCursor, encodeChangeCursor } from '../changes/cursor.ts';
import { createChangeFeed } from '../changes/feed.ts';
import type { ChangeRecord } from '../changes/model.ts';
import { toChange, type Change } from '../changes/serialize.ts';
import { AppError } from '../errors.ts';
import { shortTime, withStore } from './context.ts';
import { printable } from './installs.ts';

/**
 * How often `changes --follow` reads the feed again. The server's commits happen in another
 * process, whose notices do not reach this one (SQLite has no cross-process notification), so
 * the CLI polls; a change it makes itself still wakes it at once.
 */
export const CHANGES_FOLLOW_POLL_MS = 1_000;
/** Rows per read when printing what is there. */
const READ_PAGE = 500;

/** One line per change, `stripe listen` style: when, what, which instance, and its state after. */
function formatLine(change: Change): string {
  const plan = change.installation.plan.vendorProductId ?? (change.installation.plan.isFree === false ? 'paid' : '-');
  return [
    shortTime(change.recordedAt).padEnd(19),
    change.type.padEnd(26),
    printable(change.instanceId).padEnd(38),
    change.installation.status.padEnd(8),
    printable(plan).padEnd(12),
    change.id,
  ]
    .join('  ')
    .trimEnd();
}

export function registerChanges(program: Command) {
  program
    .command('changes')
    .description('print the change feed (GET /v1/changes) from the database; --follow tails it as changes commit, like `stripe listen`')
    .option(
      '--after <cursor>',
      'start after this cursor (a nextCursor of GET /v1/changes, or one printed here); default: the first change, or with --follow the newest',
    )
    .option('--follow', 'keep printing changes as they commit, until Ctrl-C')
    .option('--instance <id>', "only this instance's changes")
    .option('--limit <n>', 'print at most this many (without --follow)', (v) => Number.parseInt(v, 10))
    .option('--json', 'one JSON object per line: { "cursor", "change" } (the cursor to resume after that change)')
    .action(async (opts: { after?: string; follow?: boolean; instance?: string; limit?: number; json?: boolean }) => {
      let after: number | null = null;
      try {
        if (opts.after !== undefined) after = decodeChangeCursor(opts.after, '--after');
      } catch (err) {
        console.error(err instanceof AppError ? err.message : err);
        process.exit(2);
      }
      if (opts.limit !== undefined && !(Number.isSafeInteger(opts.limit) && opts.limit > 0)) {
        console.error('--limit: a positive whole number');
        process.exit(2);
      }
      await withStore(async ({ store }) => {
        const feed = createChangeFeed({ store });
        let position = after ?? (opts.follow ? await feed.head() : 0);
        let printed = 0;
        const print = (record: ChangeRecord) => {
          position = record.position;
          if (opts.instance !== undefined && record.instanceId !== opts.instance) return;
          const change = toChange(record);
          console.log(opts.json ? JSON.stringify({ cursor: encodeChangeCursor(record.position), change }) : formatLine(change));
          printed++;
        };

        if (!opts.follow) {
          const limit = opts.limit ?? Number.POSITIVE_INFINITY;
          for (;;) {
            const page = await feed.readAfter(position, READ_PAGE);
            for (const record of page.records) {
              if (printed >= limit) break;
              print(record);
            }
            if (page.records.length < READ_PAGE || printed >= limit) break;
          }
          // Where to continue from, for a script: on stderr, so stdout stays the changes alone.
          console.error(`cursor: ${encodeChangeCursor(position)}`);
          return;
        }

        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        console.error(`following the change feed of ${store.location} (Ctrl-C to stop)`);
        try {
          for await (const record of feed.follow({ after: position, pollMs: CHANGES_FOLLOW_POLL_MS, signal: stop.signal })) print(record);
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        console.error(`stopped; resume with --after ${encodeChangeCursor(position)}`);
      });
    });
}
