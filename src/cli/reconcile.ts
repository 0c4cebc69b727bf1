import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { systemClock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { RegistryStore } from '../db/store.ts';
import { detectFormat, parseImportFile } from '../reconcile/import-file.ts';
import { createReconciler } from '../reconcile/reconciler.ts';
import type { RunCounts } from '../reconcile/run.ts';
import { withStore } from './context.ts';
import { wixForCli } from './wix-context.ts';

function reconcilerFor(config: Config, store: RegistryStore) {
  const wix = wixForCli(config);
  return createReconciler({
    store,
    clock: systemClock,
    wix,
    ratePerSec: config.reconcile.ratePerSec,
    maxRemovedShare: config.reconcile.maxRemovedShare,
  });
}

/** One progress line on stderr, rewritten in place, only on a terminal (never in a pipe or a log). */
function progressPrinter(total: number | null, describe: (counts: RunCounts) => string) {
  if (!process.stderr.isTTY) return { update: undefined, done: () => undefined };
  let last = 0;
  let shown = false;
  return {
    update: (counts: RunCounts) => {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      shown = true;
      const done = counts.checked + counts.failed + counts.skipped;
      process.stderr.write(`\r${total === null ? done : `${done}/${total}`} ${describe(counts)}\u001b[K`);
    },
    done: () => {
      if (shown) process.stderr.write('\r\u001b[K');
    },
  };
}

export function registerImport(program: Command) {
  program
    .command('import <file>')
    .description(
      'record installations the app already has: a CSV (column instanceId, else the first) or NDJSON file of instance ids, each checked with Wix',
    )
    .option('--configure', "send APP_FINISHED_CONFIGURATION for the active ones (through the running server's outbox)")
    .option('--format <format>', 'csv or ndjson (default: from the extension, else the content)')
    .option('--json', 'print the summary as one JSON object')
    .action(async (file: string, opts: { configure?: boolean; format?: string; json?: boolean }) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new Error(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
      }
      if (opts.format && opts.format !== 'csv' && opts.format !== 'ndjson') throw new Error('--format: csv or ndjson');
      const parsed = parseImportFile(text, detectFormat(file, text, opts.format));
      if (parsed.problems.length > 0) {
        console.error(`${file}: ${parsed.problems.length} line(s) are not instance ids; nothing was imported:`);
        for (const problem of parsed.problems.slice(0, 10)) console.error(`  ${problem}`);
        if (parsed.problems.length > 10) console.error(`  … and ${parsed.problems.length - 10} more`);
        process.exitCode = 1;
        return;
      }
      await withStore(async ({ config, store }) => {
        const reconciler = reconcilerFor(config, store);
        const progress = progressPrinter(
          parsed.ids.length,
          (c) => `checked with Wix: active ${c.active}, removed ${c.removed}, failed ${c.failed}, skipped ${c.skipped}`,
        );
        const summary = await reconciler.importIds(parsed.ids, {
          configure: opts.configure ?? false,
          ...(progress.update ? { onProgress: progress.update } : {}),
        });
        progress.done();
        const result = {
          file,
          format: parsed.format,
          ids: parsed.ids.length,
          duplicates: parsed.duplicates,
          imported: summary.imported,
          active: summary.active,
          removed: summary.removed,
          failed: summary.failed,
          skipped: summary.skipped,
          configure: opts.configure ?? false,
          stoppedEarly: summary.stopped !== null,
          reason: summary.stopped,
        };
        if (opts.json) console.log(JSON.stringify(result));
        else {
          console.log(
            `${parsed.ids.length} instance id(s) in ${file} (${parsed.format}${parsed.header ? ', header row' : ''}${parsed.duplicates ? `, ${parsed.duplicates} duplicate line(s)` : ''})`,
          );
          console.log(
            `imported ${result.imported}: active ${result.active}, removed ${result.removed}, failed ${result.failed}; skipped ${result.skipped} (already known)`,
          );
          if (result.active > 0)
            console.log(
              opts.configure
                ? 'APP_FINISHED_CONFIGURATION is queued for the active ones (the running server sends it).'
                : 'No APP_FINISHED_CONFIGURATION was queued (use --configure for that).',
            );
        }
        if (summary.stopped) console.error(`stopped early: ${summary.stopped}`);
        if (summary.stopped || summary.failed > 0) process.exitCode = 1;
      });
    });
}

export function registerReconcile(program: Command) {
  program
    .command('reconcile')
    .description('check active installations with Wix and repair what webhooks missed (removals, site data), at RECONCILE_RATE_PER_SEC')
    .option('--instance <id>', 'only this installation (active or removed)')
    .option('--json', 'print the summary as one JSON object')
    .action(async (opts: { instance?: string; json?: boolean }) => {
      await withStore(async ({ config, store }) => {
        let ids: AsyncIterable<string> | string[];
        let total: number | null;
        const reconciler = reconcilerFor(config, store);
        if (opts.instance) {
          if ((await store.installations.status(opts.instance)) === undefined) {
            console.error(`instance ${opts.instance} is not known to the registry: record it with \`wix-registry import\``);
            process.exitCode = 1;
            return;
          }
          ids = [opts.instance];
          total = 1;
        } else {
          total = (await store.installations.counts()).active;
          ids = reconciler.activeIds();
        }
        const progress = progressPrinter(
          total,
          (c) => `checked ${c.checked}: removed ${c.removed}, updated ${c.updated}, failed ${c.failed}`,
        );
        const summary = await reconciler.reconcile(ids, progress.update ? { onProgress: progress.update } : {});
        progress.done();
        const result = {
          checked: summary.checked,
          removed: summary.removed,
          updated: summary.updated,
          reinstated: summary.reinstated,
          failed: summary.failed,
          stoppedEarly: summary.stopped !== null,
          reason: summary.stopped,
        };
        if (opts.json) console.log(JSON.stringify(result));
        else {
          console.log(
            `checked ${result.checked}: removed ${result.removed}, updated ${result.updated}${result.reinstated ? `, reinstated ${result.reinstated}` : ''}, failed ${result.failed}`,
          );
        }
        if (summary.stopped) {
          console.error(`stopped early for safety: ${summary.stopped}`);
          process.exitCode = 1;
        }
      });
    });
}
