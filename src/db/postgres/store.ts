import type { Logger } from '../../logger.ts';
import type { WriteCommand, WriteResult } from '../commands.ts';
import { parseDatabaseUrl } from '../database-url.ts';
import { StorageUnavailableError, type ChangeListener, type RegistryStore } from '../store.ts';
import { createPools, guardReads, type PostgresPoolOptions } from './connection.ts';
import { migratePostgres } from './migrate.ts';
import { listenForChanges } from './notifications.ts';
import { createPostgresReads } from './reads/index.ts';
import { createPostgresWriter } from './writer.ts';
import { createSharedTokens } from './shared-tokens.ts';

/**
 * The PostgreSQL RegistryStore: any number of processes (replicas) on one database. Writes go
 * through this process's group commit (writer.ts) on a small write pool; reads through a pool of
 * their own (createPostgresReads); the change feed's listeners hear of every process's commits
 * through LISTEN/NOTIFY (notifications.ts), and of this process's own at once.
 */

export interface PostgresStoreOptions extends PostgresPoolOptions {
  /** Apply pending migrations first (default true: the server and the CLI both do). */
  migrate?: boolean | undefined;
  /** LISTEN for other processes' changes (default true; the CLI has no long-polls to wake). */
  listen?: boolean | undefined;
  migrationsFolder?: string | undefined;
  logger?: Pick<Logger, 'warn'> | undefined;
}

export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<RegistryStore> {
  const location = parseDatabaseUrl(url);
  if (location.engine !== 'postgres') throw new Error('openPostgresStore needs a postgres:// URL');
  // Migrations run under a lock on a connection of their own, before any pool connects.
  if (options.migrate ?? true) await migratePostgres(url, options.migrationsFolder);

  const pools = createPools(url, options);
  const reads = guardReads(createPostgresReads(pools.read), pools.read, pools.readQueueMaxLength);
  const commitListeners: ((commands: number) => void)[] = [];
  const changeListeners = new Set<ChangeListener>();
  let closed = false;

  function announceChanges(position: number): void {
    if (position <= 0) return;
    for (const listener of [...changeListeners]) {
      try {
        listener({ position });
      } catch {
        // one listener's failure is not the writer's, nor the other listeners'
      }
    }
  }

  const writer = createPostgresWriter(pools.write, {
    onCommit(commands, appendedPosition) {
      for (const listener of commitListeners) listener(commands);
      // At once for this process's own commits; the LISTEN connection tells of everyone's (these too, a little later).
      announceChanges(appendedPosition);
    },
  });
  const notifications = (options.listen ?? true) ? listenForChanges(url, announceChanges, options.logger) : null;
  // Listening before the first subscriber: from then on no commit goes unheard (a failed first try keeps retrying).
  await notifications?.ready;

  return {
    engine: 'postgres',
    location: location.location,
    write<C extends WriteCommand>(command: C): Promise<WriteResult<C>> {
      if (closed) return Promise.reject(new StorageUnavailableError('The store is closed'));
      return writer.write(command) as Promise<WriteResult<C>>;
    },
    installations: reads.installations,
    outbox: reads.outbox,
    push: reads.push,
    deliveries: reads.deliveries,
    audit: reads.audit,
    sessions: reads.sessions,
    // Replicas share each instance's token through a sealed row (src/wix/token-broker.ts).
    tokens: createSharedTokens(pools.tokens),
    changes: {
      ...reads.changes,
      subscribe(listener) {
        changeListeners.add(listener);
        return () => void changeListeners.delete(listener);
      },
    },
    observeCommits: (listener) => void commitListeners.push(listener),
    isReady: () => !closed,
    async close() {
      if (closed) return;
      closed = true;
      changeListeners.clear();
      await writer.drain();
      await Promise.all([notifications?.close(), pools.end()]);
    },
  };
}
