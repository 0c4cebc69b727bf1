import type { Command } from 'commander';
import { systemClock } from '../clock.ts';
import { createRetention } from '../installations/retention.ts';
import { iso } from '../installations/time.ts';
import { createLogger } from '../logger.ts';
import { createDeliveryIngest } from '../webhooks/ingest.ts';
import { printTable, shortTime, withStore } from './context.ts';

export function registerDeliveries(program: Command) {
  const cmd = program.command('deliveries').description('the webhook deliveries stored exactly as Wix sent them');

  cmd
    .command('list')
    .description('newest first')
    .option('--instance <id>', 'only this instance')
    .option('--limit <n>', 'at most this many', (v) => Number.parseInt(v, 10), 50)
    .option('--json', 'print JSON')
    .action(async (opts: { instance?: string; limit: number; json?: boolean }) => {
      await withStore(async ({ store }) => {
        const rows = (await store.deliveries.list({ instanceId: opts.instance, limit: opts.limit })).map((r) => ({
          ...r,
          issuedAt: iso(r.issuedAt),
          receivedAt: iso(r.receivedAt),
        }));
        if (opts.json) {
          console.log(JSON.stringify(rows, null, 2));
          return;
        }
        printTable(
          rows.map((r) => ({
            id: String(r.id),
            event: r.eventType,
            instance: r.instanceId,
            issued: shortTime(r.issuedAt),
            received: shortTime(r.receivedAt),
            outcome: r.outcome,
            jwt: r.jwtPruned ? 'pruned' : 'kept',
          })),
          ['id', 'event', 'instance', 'issued', 'received', 'outcome', 'jwt'],
        );
      });
    });

  cmd
    .command('replay <id>')
    .description(
      "re-apply a stored delivery: recompute its instance's state from the full history (or, with --url, post the stored JWT there)",
    )
    .option('--url <webhook url>', 'post the stored JWT, byte for byte, to this webhook URL instead')
    .action(async (id: string, opts: { url?: string }) => {
      const deliveryId = Number.parseInt(id, 10);
      await withStore(async ({ store }) => {
        if (opts.url) {
          const stored = await store.deliveries.jwt(deliveryId);
          if (stored === null) throw new Error(`no delivery ${id}`);
          // The registry's own events (Reconciled.*, Imported.*) were never sent by Wix: there is nothing to post.
          if (stored.source !== 'wix')
            throw new Error(`delivery ${id} was recorded by the registry's own check with Wix, not sent by Wix: it has no JWT to post`);
          if (stored.jwt === null) {
            throw new Error(
              `delivery ${id} was received ${iso(stored.receivedAt)}: its raw JWT was pruned after RAW_DELIVERY_RETENTION_DAYS, so it cannot be posted byte for byte. ` +
                `Its parsed payload is kept: \`deliveries replay ${id}\` (without --url) re-applies it.`,
            );
          }
          const res = await fetch(opts.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: stored.jwt });
          console.log(`posted delivery ${id} → ${res.status} ${await res.text()}`);
          if (!res.ok) process.exitCode = 1;
          return;
        }
        // The outbox reacts as it would to a live delivery; a running registry's worker picks the jobs up.
        const result = await createDeliveryIngest({ store, clock: systemClock }).replay(deliveryId);
        if (!result) {
          console.error(`no delivery ${id}`);
          process.exitCode = 1;
          return;
        }
        console.log(
          result.changed
            ? `instance ${result.instanceId}: state recomputed and updated`
            : `instance ${result.instanceId}: state already matches its history`,
        );
      });
    });

  cmd
    .command('prune')
    .description(
      'drop the raw JWT of deliveries older than RAW_DELIVERY_RETENTION_DAYS now (the server also does it on a timer); hashes, history and state are kept',
    )
    .action(async () => {
      await withStore(async ({ config, store }) => {
        const retention = createRetention({
          store,
          clock: systemClock,
          logger: createLogger('warn'),
          rawDeliveryRetentionDays: config.rawDeliveryRetentionDays,
        });
        const run = await retention.runOnce();
        console.log(
          `dropped the raw JWT of ${run.rawJwtsPruned} deliver${run.rawJwtsPruned === 1 ? 'y' : 'ies'} received before ${iso(run.receivedBefore)} ` +
            `(RAW_DELIVERY_RETENTION_DAYS=${config.rawDeliveryRetentionDays}) in ${run.batches} batch(es); ${run.sessionsDeleted} expired dashboard session(s) deleted`,
        );
      });
    });
}
