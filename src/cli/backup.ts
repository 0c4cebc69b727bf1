import type { Command } from 'commander';
import { backupDatabase } from '../db/backup.ts';
import { loadConfig } from '../config.ts';

export function registerBackup(program: Command) {
  program
    .command('backup <file>')
    .description(
      "copy the database to a new file with SQLite's online backup, safe while the server runs, then verify the copy (integrity_check, every delivery committed before it began); PostgreSQL: use pg_dump",
    )
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const config = loadConfig();
      const report = await backupDatabase(config.database, file);
      if (opts.json) return console.log(JSON.stringify(report, null, 2));
      const mb = (report.bytes / 1_048_576).toFixed(1);
      console.log(
        `backed up ${config.databasePath} → ${report.destination} (${mb} MB, mode 0600) in ${(report.durationMs / 1000).toFixed(1)} s`,
      );
      console.log(
        `verified: integrity_check ${report.integrity}; ${report.migrations} migrations; every one of the ${report.deliveriesBeforeBackup.count} deliveries committed before the backup began is in it`,
      );
      console.log(
        `rows: ${Object.entries(report.rows)
          .map(([table, n]) => `${table} ${n}`)
          .join(', ')}`,
      );
    });
}
