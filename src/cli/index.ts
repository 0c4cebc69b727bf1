import { Command } from 'commander';
import { ConfigError } from '../config.ts';
import { registerInstalls } from './installs.ts';
import { registerMigrate } from './migrate.ts';
import { registerServe } from './serve.ts';
import { registerSimulate } from './simulate.ts';

const program = new Command('wix-registry').description('The installation registry for Wix apps').showHelpAfterError();
registerServe(program);
registerMigrate(program);
registerInstalls(program);
registerSimulate(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
