import { once } from 'node:events';
import { Option, type Command } from 'commander';
import {
  AUDIT_LIMIT_MAX,
  createTokenAudit,
  TOKEN_HANDOUT_OUTCOMES,
  tokenHandoutQuerySchema,
  type TokenHandout,
} from '../audit/token-handouts.ts';
import { parseInput } from '../parse-input.ts';
import { printable } from './installs.ts';
import { printTable, shortTime, withStore } from './context.ts';

/** Query parameter → CLI flag, for error messages. */
const FLAGS: Record<string, string> = {
  instanceId: '--instance',
  key: '--key',
  outcome: '--outcome',
  since: '--since',
  until: '--until',
  limit: '--limit',
  cursor: '--cursor',
};
const COLUMNS = ['time', 'key', 'instance', 'outcome', 'expires', 'request'];

const row = (h: TokenHandout): Record<string, string> => ({
  time: shortTime(h.requestedAt),
  key: h.apiKeyId,
  instance: printable(h.instanceId),
  outcome: h.outcome,
  expires: shortTime(h.tokenExpiresAt),
  request: printable(h.requestId ?? '-'),
});

const line = (cells: string[], widths: number[]) =>
  cells
    .map((cell, n) => cell.padEnd(widths[n] ?? 0))
    .join('  ')
    .trimEnd();

async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}

interface AuditOptions {
  instance?: string;
  key?: string;
  outcome?: string;
  since?: string;
  until?: string;
  limit?: string;
  cursor?: string;
  all?: boolean;
  json?: boolean;
}

export function registerAudit(program: Command) {
  const audit = program.command('audit').description('read the audit trails in the local database');

  audit
    .command('tokens')
    .description(
      'access tokens handed out through POST /v1/installations/:id/access-token, newest first (the same rows as GET /v1/audit/token-handouts)',
    )
    .option('--instance <id>', 'only requests for this instance')
    .option('--key <fingerprint>', 'only requests made with this API key: its fingerprint (key_ and 12 hex digits), as logs show it')
    .addOption(new Option('--outcome <outcome>', 'only this answer').choices(TOKEN_HANDOUT_OUTCOMES))
    .option('--since <time>', 'at or after (ISO-8601 date or date-time)')
    .option('--until <time>', 'before (exclusive)')
    .option('--limit <n>', `rows per page (1-${AUDIT_LIMIT_MAX}; default 50, or 500 with --all)`)
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--all', 'follow the cursors and print every matching row')
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: AuditOptions) => {
      const input = Object.fromEntries(
        Object.entries({
          instanceId: opts.instance,
          key: opts.key,
          outcome: opts.outcome,
          since: opts.since,
          until: opts.until,
          limit: opts.limit ?? (opts.all ? String(AUDIT_LIMIT_MAX) : undefined),
          cursor: opts.cursor,
        }).filter(([, value]) => value !== undefined),
      );
      const query = parseInput(tokenHandoutQuerySchema, input, (key) => FLAGS[key] ?? key);
      await withStore(async ({ store }) => {
        const trail = createTokenAudit({ page: (request) => store.audit.tokenHandouts(request) });
        if (!opts.all) {
          const page = await trail.list(query);
          if (opts.json) return console.log(JSON.stringify(page, null, 2));
          printTable(page.items.map(row), COLUMNS);
          if (page.nextCursor) console.log(`more: --cursor ${page.nextCursor}  (or --all)`);
          return;
        }
        // --all: page by page, printed as it comes, so memory holds one page.
        let cursor = query.cursor;
        let printed = 0;
        let widths: number[] | null = null;
        if (opts.json) await write('{\n  "items": [');
        do {
          const page = await trail.list({ ...query, cursor });
          if (opts.json) {
            for (const item of page.items) await write(`${printed++ > 0 ? ',' : ''}\n    ${JSON.stringify(item)}`);
          } else {
            const rows = page.items.map(row);
            // Column widths from the first page; a longer value later only pushes its own line.
            widths ??= rows.length > 0 ? COLUMNS.map((col) => Math.max(col.length, ...rows.map((r) => (r[col] ?? '').length))) : null;
            if (widths && printed === 0)
              await write(
                `${line(
                  COLUMNS.map((c) => c.toUpperCase()),
                  widths,
                )}\n`,
              );
            for (const r of rows)
              await write(
                `${line(
                  COLUMNS.map((c) => r[c] ?? ''),
                  widths!,
                )}\n`,
              );
            printed += rows.length;
          }
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        if (opts.json) await write(`${printed > 0 ? '\n  ' : ''}],\n  "nextCursor": null\n}\n`);
        else if (printed === 0) console.log('(none)');
      });
    });
}
