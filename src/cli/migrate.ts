import type { Command } from 'commander';
import { withStore } from './context.ts';

export function registerMigrate(program: Command) {
  program
    .command('migrate')
    .description('apply pending database migrations (the server also does this on start)')
    .action(async () => {
      // Opening the store applies pending migrations.
      const location = await withStore(async ({ store }) => store.location);
      console.log(`database ${location} is migrated`);
    });
}
