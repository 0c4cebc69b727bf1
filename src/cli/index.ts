import { Command } from 'commander';
import { registerChanges } from './changes.ts';
import { ConfigError } from '../config.ts';
import { registerAudit } from './audit.ts';
import { registerBackup } from './backup.ts';
import { registerDeliveries } from './deliveries.ts';
import { registerInstalls } from './installs.ts';
import { registerOutbox } from './outbox.ts';
import { registerMigrate } from './migrate.ts';
import { registerServe } from './serve.ts';
import { registerSessions } from './sessions.ts';
import { registerSimulate } from './simulate.ts';
import { registerStats } from './stats.ts';
import { registerImport, registerReconcile } from './reconcile.ts';

const program = new Command('wix-registry').description('The installation registry for Wix apps').showHelpAfterError();
registerServe(program);
registerMigrate(program);
registerInstalls(program);
registerSimulate(program);
registerOutbox(program);
registerDeliveries(program);
registerStats(program);
registerImport(program);
registerReconcile(program);
registerAudit(program);
registerSessions(program);
registerBackup(program);
registerChanges(program);

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
