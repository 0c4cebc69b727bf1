import pg from 'pg';
import type { Logger } from '../../logger.ts';
import { StorageBusyError, type StoreReads } from '../store.ts';
import { READ_RETRY_AFTER_SEC, toStorageError } from './errors.ts';

// int8 (bigint: every epoch-ms time, id and count) as a JS number, as the schema's `mode: 'number'`
// promises: node-postgres returns strings by default. Values stay below 2^53 (ms until year 287396).
pg.types.setTypeParser(pg.types.builtins.INT8, Number);

/** A read that waited this long for a connection is refused (503, Retry-After), as on SQLite: webhooks come first. */
export const READ_QUEUE_MAX_WAIT_MS = 2_000;
/** Reads waiting at most; past this a new read is refused at once. */
export const READ_QUEUE_MAX_LENGTH = 1_000;
/**
 * Write connections: the group commit uses one at a time (one batch in flight), and a spare lets
 * the next batch start the moment a broken connection is thrown away.
 */
export const WRITE_POOL_SIZE = 2;
/**
 * Connections of the shared token rows (shared-tokens.ts): each is held while Wix answers a token
 * request (up to its 10 s timeout), so they have a pool of their own: a Wix outage must not take
 * the connections reads or the group commit need.
 */
export const TOKEN_POOL_SIZE = 4;
/** Connecting to a server that does not answer fails after this long (StorageUnavailableError). */
export const CONNECT_TIMEOUT_MS = 5_000;
/** A statement that runs longer than this is cancelled: a lock wait that long is a stuck replica, not load. */
export const STATEMENT_TIMEOUT_MS = 30_000;

export interface PostgresPoolOptions {
  /** Read connections at most (DATABASE_POOL_SIZE). */
  readPoolSize?: number | undefined;
  readQueueMaxWaitMs?: number | undefined;
  readQueueMaxLength?: number | undefined;
  logger?: Pick<Logger, 'warn'> | undefined;
}

export interface PostgresPools {
  /** Only the group commit writes through it (src/db/postgres/writer.ts). */
  write: pg.Pool;
  /** Every read (createPostgresReads): a slow query never holds a connection a webhook waits for. */
  read: pg.Pool;
  /** The shared token rows, locked while Wix is asked (TOKEN_POOL_SIZE). */
  tokens: pg.Pool;
  readQueueMaxLength: number;
  end(): Promise<void>;
}

/** The pools of a store; none connects before it is used. */
export function createPools(url: string, options: PostgresPoolOptions = {}): PostgresPools {
  const common = {
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    // The registry's connections in pg_stat_activity.
    application_name: 'wix-registry',
  };
  const write = new pg.Pool({ ...common, max: WRITE_POOL_SIZE, application_name: 'wix-registry writer' });
  // connectionTimeoutMillis also bounds the wait for a busy pool's connection: pg-pool fails that
  // checkout with "timeout exceeded when trying to connect", which toStorageError turns into StorageBusyError.
  const read = new pg.Pool({
    ...common,
    max: options.readPoolSize ?? 10,
    connectionTimeoutMillis: options.readQueueMaxWaitMs ?? READ_QUEUE_MAX_WAIT_MS,
  });
  const tokens = new pg.Pool({ ...common, max: TOKEN_POOL_SIZE, application_name: 'wix-registry tokens' });
  for (const pool of [write, read, tokens]) {
    // An idle connection the server dropped (restart, admin shutdown) emits here; without a
    // listener it would crash the process. The pool replaces it on the next checkout.
    pool.on('error', (error) =>
      options.logger?.warn(
        { err: { message: error.message, code: (error as { code?: string }).code } },
        'PostgreSQL dropped an idle connection',
      ),
    );
  }
  let ended: Promise<void> | null = null;
  return {
    write,
    read,
    tokens,
    readQueueMaxLength: options.readQueueMaxLength ?? READ_QUEUE_MAX_LENGTH,
    end: () => (ended ??= Promise.all([write.end(), read.end(), tokens.end()]).then(() => undefined)),
  };
}

/**
 * The reads as callers must see them: every error through toStorageError (a database that is down
 * is a 503, not a 500), and a read refused at once when READ_QUEUE_MAX_LENGTH are already waiting
 * for a connection.
 */
export function guardReads(reads: StoreReads, pool: pg.Pool, maxWaiting: number): StoreReads {
  const guard =
    <A extends unknown[], R>(read: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (pool.waitingCount >= maxWaiting) throw new StorageBusyError(READ_RETRY_AFTER_SEC);
      try {
        const result = await read(...args);
        return isAsyncIterator(result) ? (mapIteratorErrors(result) as R) : result;
      } catch (error) {
        throw toStorageError(error);
      }
    };
  const guarded: Record<string, Record<string, unknown>> = {};
  for (const [area, functions] of Object.entries(reads as unknown as Record<string, Record<string, unknown>>)) {
    guarded[area] = Object.fromEntries(
      Object.entries(functions).map(([name, fn]) => [
        name,
        typeof fn === 'function' ? guard(fn.bind(functions) as (...a: unknown[]) => Promise<unknown>) : fn,
      ]),
    );
  }
  return guarded as unknown as StoreReads;
}

function isAsyncIterator(value: unknown): value is AsyncIterableIterator<unknown> {
  return (
    typeof value === 'object' && value !== null && Symbol.asyncIterator in value && typeof (value as { next?: unknown }).next === 'function'
  );
}

/** An export's later chunks fail the same way as its first. */
async function* mapIteratorErrors<T>(iterator: AsyncIterableIterator<T>): AsyncGenerator<T> {
  try {
    yield* iterator;
  } catch (error) {
    throw toStorageError(error);
  }
}
