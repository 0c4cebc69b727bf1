import type { Command } from 'commander';
import { openCliDatabase } from './context.ts';

export function registerMigrate(program: Command) {
  program
    .command('migrate')
    .description('apply pending database migrations (the server also does this on start)')
    .action(() => {
      const { config, database } = openCliDatabase();
      database.close();
      console.log(`database ${config.databasePath} is migrated`);
    });
}
