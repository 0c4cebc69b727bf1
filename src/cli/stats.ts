import type { Command } from 'commander';
import { dailyStatsQuerySchema } from '../installations/daily-stats.ts';
import { parseInput } from '../parse-input.ts';
import { printTable, queriesOver, withStore } from './context.ts';

const percent = (part: number, whole: number) => (whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`);

export function registerStats(program: Command) {
  const stats = program.command('stats').description('installation trends from the local database');

  stats
    .command('daily')
    .description('installs, removals, net and active installations per UTC day, and early churn (the same numbers as GET /v1/stats/daily)')
    .option('--from <date>', 'first day, YYYY-MM-DD (default: 30 days before --to)')
    .option('--to <date>', 'day after the last one, YYYY-MM-DD, exclusive (default: tomorrow, so today is the last day)')
    .option('--json', 'print JSON')
    .action(async (opts: { from?: string; to?: string; json?: boolean }) => {
      const range = parseInput(
        dailyStatsQuerySchema,
        Object.fromEntries(Object.entries({ from: opts.from, to: opts.to }).filter(([, v]) => v !== undefined)),
        (key) => `--${key}`,
      );
      await withStore(async ({ store }) => {
        const result = await queriesOver(store).daily.forRange(range);
        if (opts.json) {
          console.log(JSON.stringify(result, null, 2));
          return;
        }
        printTable(
          result.days.map((d) => ({
            date: d.date,
            installs: String(d.installs),
            removals: String(d.removals),
            net: d.net > 0 ? `+${d.net}` : String(d.net),
            active: String(d.active),
          })),
          ['date', 'installs', 'removals', 'net', 'active'],
        );
        const c = result.churn;
        console.log(
          `\nchurn of the ${c.installs} installs from ${result.from} to ${result.to} (exclusive): removed within 1 day ${c.removedWithin1Day} (${percent(c.removedWithin1Day, c.installs)}), ` +
            `7 days ${c.removedWithin7Days} (${percent(c.removedWithin7Days, c.installs)}), 30 days ${c.removedWithin30Days} (${percent(c.removedWithin30Days, c.installs)})`,
        );
      });
    });
}
