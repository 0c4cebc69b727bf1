import { Option, type Command } from 'commander';
import { createInstallationQueries } from '../installations/queries.ts';
import { openCliDatabase, printTable, shortTime } from './context.ts';

export function registerInstalls(program: Command) {
  const installs = program.command('installs').description('query installations in the local database');

  installs
    .command('list')
    .description('list installations, newest first')
    .addOption(new Option('--status <status>', 'only this status').choices(['active', 'removed']))
    .option('--limit <n>', 'rows per page (1-500)', (v) => Number.parseInt(v, 10), 50)
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--json', 'print JSON instead of a table')
    .action((opts: { status?: 'active' | 'removed'; limit: number; cursor?: string; json?: boolean }) => {
      const { database } = openCliDatabase();
      try {
        const page = createInstallationQueries(database.db).list({ status: opts.status, limit: opts.limit, cursor: opts.cursor });
        if (opts.json) {
          console.log(JSON.stringify(page, null, 2));
          return;
        }
        printTable(
          page.items.map((i) => ({
            instance: i.instanceId,
            status: i.status,
            installed: shortTime(i.installedAt) + (i.installedAtInferred ? '*' : ''),
            removed: shortTime(i.removedAt),
            plan: i.plan.vendorProductId ?? (i.plan.isFree === false ? 'paid' : i.plan.isFree ? 'free' : '-'),
            site: i.site.name ?? i.site.siteId ?? '-',
          })),
          ['instance', 'status', 'installed', 'removed', 'plan', 'site'],
        );
        if (page.items.some((i) => i.installedAtInferred)) console.log('* install not received; time of the first event seen');
        if (page.nextCursor) console.log(`more: --cursor ${page.nextCursor}`);
      } finally {
        database.close();
      }
    });

  installs
    .command('show <instanceId>')
    .description('one installation with its event history')
    .option('--json', 'print JSON')
    .action((instanceId: string, opts: { json?: boolean }) => {
      const { database } = openCliDatabase();
      try {
        const found = createInstallationQueries(database.db).get(instanceId);
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
          ['plan', [i.plan.vendorProductId, i.plan.cycle, i.plan.isFree === null ? null : i.plan.isFree ? 'free' : 'paid'].filter(Boolean).join(' ') || null],
        ];
        for (const [k, v] of fields) console.log(`${k.padEnd(11)} ${v ?? '-'}`);
        console.log('\nhistory:');
        printTable(
          found.events.map((e) => ({ issued: shortTime(e.issuedAt), received: shortTime(e.receivedAt), event: e.eventType, outcome: e.outcome })),
          ['issued', 'received', 'event', 'outcome'],
        );
      } finally {
        database.close();
      }
    });
}
