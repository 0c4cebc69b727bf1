import { Option, type Command } from 'commander';
import { systemClock } from '../clock.ts';
import { isoOrNull } from '../installations/time.ts';
import { OUTBOX_JOB_STATUSES, type OutboxJobStatus } from '../outbox/model.ts';
import { describeEndpoint } from '../outbox/push.ts';
import { printTable, shortTime, withStore } from './context.ts';

export function registerOutbox(program: Command) {
  const outbox = program
    .command('outbox')
    .description('inspect and retry the outbox (Wix: BI events, site sync; pushes of changes to REGISTRY_EVENT_ENDPOINTS)');

  outbox
    .command('list')
    .description('jobs, newest first')
    .addOption(new Option('--status <status>', 'only jobs in this state').choices([...OUTBOX_JOB_STATUSES]))
    .option('--instance <id>', 'only jobs of this instance')
    .option('--limit <n>', 'at most this many', (v) => Number.parseInt(v, 10), 50)
    .option('--json', 'print JSON')
    .action(async (opts: { status?: OutboxJobStatus; instance?: string; limit: number; json?: boolean }) => {
      await withStore(async ({ store }) => {
        const [list, counts] = await Promise.all([
          store.outbox.list({ status: opts.status, instanceId: opts.instance, limit: opts.limit }),
          store.outbox.counts(),
        ]);
        const jobs = list.map((j) => ({
          id: j.id,
          kind: j.kind,
          instanceId: j.instanceId,
          status: j.status,
          attempts: j.attempts,
          runAfter: isoOrNull(j.runAfter),
          createdAt: isoOrNull(j.createdAt),
          completedAt: isoOrNull(j.completedAt),
          lastError: j.lastError,
          // push_change: where to (never the whole URL: it may hold a credential) and which change.
          endpoint: j.endpoint === null ? null : describeEndpoint(j.endpoint),
          changePosition: j.changePosition,
        }));
        if (opts.json) {
          console.log(JSON.stringify({ counts, jobs }, null, 2));
          return;
        }
        console.log(OUTBOX_JOB_STATUSES.map((s) => `${s}: ${counts[s]}`).join('  '));
        printTable(
          jobs.map((j) => ({
            id: String(j.id),
            kind: j.kind,
            instance: j.instanceId,
            status: j.status,
            attempts: String(j.attempts),
            next: j.status === 'pending' ? shortTime(j.runAfter) : '-',
            to: j.endpoint ?? 'Wix',
            error: (j.lastError ?? '').slice(0, 60),
          })),
          ['id', 'kind', 'instance', 'status', 'attempts', 'next', 'to', 'error'],
        );
      });
    });

  outbox
    .command('retry [ids...]')
    .description('send dead (or cancelled) jobs again: the given ids, or every dead job with --all-dead')
    .option('--all-dead', 'every dead job')
    .action(async (ids: string[], opts: { allDead?: boolean }) => {
      if (ids.length === 0 && !opts.allDead) {
        console.error('name job ids, or pass --all-dead');
        process.exit(2);
      }
      await withStore(async ({ store }) => {
        const numeric = ids.map((id) => Number.parseInt(id, 10)).filter(Number.isSafeInteger);
        const changed = await store.write({ kind: 'requeueJobs', now: systemClock.now(), jobIds: opts.allDead ? undefined : numeric });
        console.log(`${changed} job(s) queued again; a running registry picks them up within a second`);
      });
    });
}
