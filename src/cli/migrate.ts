import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { migrateDatabase } from '../db/open-store.ts';
import { CLI_BUSY_TIMEOUT_MS } from './context.ts';

export function registerMigrate(program: Command) {
  program
    .command('migrate')
    .description('apply pending database migrations (the server also does this on start)')
    .action(async () => {
      const config = loadConfig();
      await migrateDatabase(config.database, { sqlite: { busyTimeoutMs: CLI_BUSY_TIMEOUT_MS } });
      console.log(`database ${config.databasePath} is migrated`);
    });
}
