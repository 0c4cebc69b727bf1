import type { Command } from 'commander';
import { ConfigError } from '../config.ts';
import { startRegistry } from '../main.ts';

export function registerServe(program: Command) {
  program
    .command('serve')
    .description('run the registry (sandbox mode when no Wix credentials are configured)')
    .action(async () => {
      let running;
      try {
        running = await startRegistry();
      } catch (err) {
        if (err instanceof ConfigError) {
          console.error(err.message);
          process.exit(1);
        }
        throw err;
      }
      const shutdown = () => {
        running.stop().then(
          () => process.exit(0),
          (err) => {
            console.error(err);
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
    });
}
