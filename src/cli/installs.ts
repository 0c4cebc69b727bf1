import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { Option, type Command } from 'commander';
import {
  EXPORT_FORMATS,
  INSTALLATION_SORTS,
  INSTALLATION_STATUSES,
  installationExportQuerySchema,
  installationListQuerySchema,
  LIST_LIMIT_MAX,
  SORT_ORDERS,
} from '../installations/query-schemas.ts';
import type { Installation } from '../installations/serialize.ts';
import { parseInput } from '../parse-input.ts';
import { printTable, queriesOver, shortTime, withStore } from './context.ts';

/** Query parameter → CLI flag, for the options below and for error messages. */
const FLAGS: Record<string, string> = {
  status: '--status',
  plan: '--plan',
  installedFrom: '--installed-from',
  installedTo: '--installed-to',
  removedFrom: '--removed-from',
  removedTo: '--removed-to',
  q: '--search',
  sort: '--sort',
  order: '--order',
  limit: '--limit',
  cursor: '--cursor',
  format: '--format',
};
const flagOf = (key: string) => FLAGS[key] ?? key;

interface FilterOptions {
  status?: string;
  plan?: string;
  installedFrom?: string;
  installedTo?: string;
  removedFrom?: string;
  removedTo?: string;
  search?: string;
  sort?: string;
  order?: string;
}

/** The filter and sort options `list` and `export` share; parsed by the HTTP API's schemas. */
function addFilterOptions(command: Command): Command {
  return command
    .addOption(new Option('--status <status>', 'only this status').choices(INSTALLATION_STATUSES))
    .option('--plan <plan>', 'free, paid, or a vendorProductId')
    .option('--installed-from <time>', 'installed at or after (ISO-8601 date or date-time)')
    .option('--installed-to <time>', 'installed before (exclusive)')
    .option('--removed-from <time>', 'removed at or after')
    .option('--removed-to <time>', 'removed before (exclusive)')
    .option('--search <text>', 'substring of the site name, site URL or instance id (case-insensitive)')
    .addOption(
      new Option('--sort <key>', 'sort key (default installedAt; removedAt lists rows never removed last)').choices(INSTALLATION_SORTS),
    )
    .addOption(new Option('--order <order>', 'sort order (default desc)').choices(SORT_ORDERS));
}

/** The options as the query-string parameters the shared schemas read (absent ones left out). */
function queryInput(opts: FilterOptions, extra: Record<string, string | undefined>): Record<string, string> {
  const input: Record<string, string | undefined> = {
    status: opts.status,
    plan: opts.plan,
    installedFrom: opts.installedFrom,
    installedTo: opts.installedTo,
    removedFrom: opts.removedFrom,
    removedTo: opts.removedTo,
    q: opts.search,
    sort: opts.sort,
    order: opts.order,
    ...extra,
  };
  return Object.fromEntries(Object.entries(input).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** Writes respecting backpressure, so piping a large result into `head` or a slow disk is fine. */
async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

const LIST_COLUMNS = ['instance', 'status', 'installed', 'removed', 'plan', 'site'];

const formatLine = (cells: string[], widths: number[]) =>
  cells
    .map((cell, n) => cell.padEnd(widths[n] ?? 0))
    .join('  ')
    .trimEnd();

/**
 * Site names and URLs are whatever the site's owner typed: control characters are shown as
 * escapes, so a line break cannot split a table row and an ANSI sequence cannot drive the terminal.
 */
export function printable(text: string): string {
  const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function tableRow(i: Installation): Record<string, string> {
  return {
    instance: printable(i.instanceId),
    status: i.status,
    installed: shortTime(i.installedAt) + (i.installedAtInferred ? '*' : ''),
    removed: shortTime(i.removedAt),
    plan: printable(i.plan.vendorProductId ?? (i.plan.isFree === false ? 'paid' : i.plan.isFree ? 'free' : '-')),
    site: printable(i.site.name ?? i.site.siteId ?? '-'),
  };
}

export function registerInstalls(program: Command) {
  const installs = program.command('installs').description('query installations in the local database');

  addFilterOptions(installs.command('list').description('list installations (newest install first unless --sort/--order)'))
    .option('--limit <n>', `rows per page (1-${LIST_LIMIT_MAX}; default 50, or 500 with --all)`)
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--all', 'follow the cursors and print every matching installation')
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: FilterOptions & { limit?: string; cursor?: string; all?: boolean; json?: boolean }) => {
      const input = queryInput(opts, { limit: opts.limit ?? (opts.all ? String(LIST_LIMIT_MAX) : undefined), cursor: opts.cursor });
      const query = parseInput(installationListQuerySchema, input, flagOf);
      await withStore(async ({ store }) => {
        const queries = queriesOver(store);
        if (!opts.all) {
          const page = await queries.list(query);
          if (opts.json) {
            console.log(JSON.stringify(page, null, 2));
            return;
          }
          printTable(page.items.map(tableRow), LIST_COLUMNS);
          if (page.items.some((i) => i.installedAtInferred)) console.log('* install not received; time of the first event seen');
          if (page.nextCursor) console.log(`more: --cursor ${page.nextCursor}  (or --all)`);
          return;
        }
        // --all: page by page, printing as it goes, so memory holds one page.
        const out = process.stdout;
        let cursor = query.cursor;
        let printed = 0;
        let widths: number[] | null = null;
        let inferred = false;
        if (opts.json) await write(out, '{\n  "items": [');
        do {
          const page = await queries.list({ ...query, cursor });
          for (const item of page.items) {
            if (opts.json) {
              await write(out, `${printed > 0 ? ',' : ''}\n${JSON.stringify(item, null, 2).replace(/^/gm, '    ')}`);
            } else {
              const row = tableRow(item);
              if (!widths) {
                // Column widths from the first page; a longer value later only pushes its line.
                const firstPage = page.items.map(tableRow);
                widths = LIST_COLUMNS.map((col) => Math.max(col.length, ...firstPage.map((r) => (r[col] ?? '').length)));
                await write(
                  out,
                  `${formatLine(
                    LIST_COLUMNS.map((c) => c.toUpperCase()),
                    widths,
                  )}\n`,
                );
              }
              await write(
                out,
                `${formatLine(
                  LIST_COLUMNS.map((c) => row[c] ?? ''),
                  widths,
                )}\n`,
              );
              inferred ||= item.installedAtInferred;
            }
            printed += 1;
          }
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        if (opts.json) await write(out, `${printed > 0 ? '\n  ' : ''}],\n  "nextCursor": null\n}\n`);
        else if (printed === 0) await write(out, '(none)\n');
        else if (inferred) await write(out, '* install not received; time of the first event seen\n');
      });
    });

  addFilterOptions(installs.command('export').description('every matching installation as NDJSON or CSV (to stdout unless --output)'))
    .addOption(
      new Option('--format <format>', 'ndjson (one Installation per line) or csv (flat columns)').choices(EXPORT_FORMATS).default('ndjson'),
    )
    .option('--output <file>', 'write to this file instead of stdout')
    .action(async (opts: FilterOptions & { format: string; output?: string }) => {
      const query = parseInput(installationExportQuerySchema, queryInput(opts, { format: opts.format }), flagOf);
      const out: Writable = opts.output ? createWriteStream(opts.output) : process.stdout;
      try {
        await withStore(async ({ store }) => {
          for await (const chunk of await queriesOver(store).exportChunks(query)) await write(out, chunk);
        });
      } finally {
        if (opts.output) {
          out.end();
          await once(out, 'finish');
        }
      }
      if (opts.output) console.error(`wrote ${opts.output}`);
    });

  installs
    .command('show <instanceId>')
    .description('one installation with its event history')
    .option('--json', 'print JSON')
    .action(async (instanceId: string, opts: { json?: boolean }) => {
      await withStore(async ({ store }) => {
        const found = await queriesOver(store).get(instanceId);
        if (!found) {
          console.error(`no installation ${instanceId}`);
          process.exitCode = 1;
          return;
        }
        if (opts.json) {
          console.log(JSON.stringify(found, null, 2));
          return;
        }
        const i = found.installation;
        const fields: [string, string | null][] = [
          ['instance', i.instanceId],
          ['status', i.status],
          ['installed', shortTime(i.installedAt) + (i.installedAtInferred ? ' (inferred: install not received)' : '')],
          ['removed', shortTime(i.removedAt)],
          ['configured', shortTime(i.configuredAt)],
          ['origin', i.originInstanceId],
          ['site', [i.site.name, i.site.url, i.site.siteId].filter(Boolean).join('  ') || null],
          [
            'plan',
            [i.plan.vendorProductId, i.plan.cycle, i.plan.isFree === null ? null : i.plan.isFree ? 'free' : 'paid']
              .filter(Boolean)
              .join(' ') || null,
          ],
        ];
        for (const [k, v] of fields) console.log(`${k.padEnd(11)} ${v === null ? '-' : printable(v)}`);
        console.log('\nhistory:');
        printTable(
          found.events.map((e) => ({
            issued: shortTime(e.issuedAt),
            received: shortTime(e.receivedAt),
            event: e.eventType,
            outcome: e.outcome,
          })),
          ['issued', 'received', 'event', 'outcome'],
        );
      });
    });
}
