import type pg from 'pg';
import { StorageUnavailableError, type SealedTokenRow, type SharedTokenStore } from '../store.ts';

/**
 * How long a process waits for an instance's token lock before it gives up (and its broker asks
 * Wix directly). The holder keeps the lock for one token request, which Wix answers or the
 * request times out within WIX_REQUEST_TIMEOUT_MS (10 s); twice that leaves room for a busy
 * database without letting a lost holder stall callers for long.
 */
export const TOKEN_LOCK_WAIT_MS = 20_000;

export interface SharedTokensOptions {
  /** Longest wait for an instance's token lock, and for a free connection (default TOKEN_LOCK_WAIT_MS). */
  lockWaitMs?: number;
  /** Transactions at once, each on a connection of `pool` (default: the pool's `max`). */
  maxConnections?: number;
}

interface AccessTokenRow {
  sealed: string;
  key_id: string;
  expires_at: string | number;
}

/** One advisory-lock key per instance; the prefix keeps it apart from every other advisory lock of the registry. */
const LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtextextended('wix-registry:token:' || $1, 0))`;

/**
 * The shared token rows on PostgreSQL (table access_tokens, schema/access-tokens.ts): each
 * `locked` call is one transaction on a connection of `pool` that takes the instance's
 * transaction-scoped advisory lock, reads the row, lets the broker ask Wix if it must, writes the
 * answer and commits, which lets the lock go. A process that dies holding it loses its
 * connection, and PostgreSQL lets the lock go with it.
 *
 * The connection stays checked out while Wix answers (at most the Wix request timeout): give it a
 * pool of its own, or one the group commit does not depend on, so a slow Wix cannot hold up
 * writes. A lock wait is bounded by `lockWaitMs` (lock_timeout) and then refused with a
 * StorageUnavailableError, as is any failure of the database.
 */
export function createSharedTokens(pool: pg.Pool, options: SharedTokensOptions = {}): SharedTokenStore {
  const lockWaitMs = options.lockWaitMs ?? TOKEN_LOCK_WAIT_MS;
  // Callers queue here rather than in the pool, whose own wait (connectionTimeoutMillis) is meant
  // for a server that does not answer: a burst of cache misses for many instances waits its turn
  // (each turn is one token request at most) instead of falling back to Wix after a short wait.
  const slots = createSlots(options.maxConnections ?? pool.options.max ?? 10);

  /** Runs `work` in a transaction holding the instance's lock; errors of `work` pass as they are, the database's become StorageUnavailableError. */
  async function inLockedTransaction<T>(instanceId: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const releaseSlot = await slots.acquire(lockWaitMs);
    try {
      return await inTransaction(instanceId, work);
    } finally {
      releaseSlot();
    }
  }

  async function inTransaction<T>(instanceId: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect().catch((err: unknown) => {
      throw unavailable('could not get a connection', err);
    });
    // A checked-out client has no error listener of the pool's: without one, a connection lost
    // while Wix answers would be an uncaught 'error' event. The failed query reports it anyway.
    let lost: Error | undefined;
    const onError = (err: Error) => (lost = err);
    client.on('error', onError);
    let workFailed = false;
    let broken: Error | undefined;
    try {
      await client.query('BEGIN').catch(rethrowUnavailable('could not begin'));
      await client
        .query(`SELECT set_config('lock_timeout', $1, true)`, [`${lockWaitMs}ms`])
        .catch(rethrowUnavailable('could not set lock_timeout'));
      await client.query(LOCK_SQL, [instanceId]).catch(rethrowUnavailable('the token lock was not granted'));
      let result: T;
      try {
        result = await work(client);
      } catch (err) {
        workFailed = true;
        throw err;
      }
      await client.query('COMMIT').catch(rethrowUnavailable('could not commit'));
      return result;
    } catch (err) {
      // Rolling back also lets the lock go; a connection that cannot roll back is closed instead.
      await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
        broken = rollbackErr instanceof Error ? rollbackErr : new Error('rollback failed');
      });
      if (workFailed || err instanceof StorageUnavailableError) throw err;
      throw unavailable('failed', err);
    } finally {
      client.removeListener('error', onError);
      client.release(lost ?? broken);
    }
  }

  async function readRow(client: pg.PoolClient, instanceId: string): Promise<SealedTokenRow | null> {
    const { rows } = await client
      .query<AccessTokenRow>('SELECT sealed, key_id, expires_at FROM access_tokens WHERE instance_id = $1', [instanceId])
      .catch(rethrowUnavailable('could not read the token row'));
    const row = rows[0];
    // int8 comes back as a string unless the engine's connection set a parser: Number() either way.
    return row ? { sealed: row.sealed, keyId: row.key_id, expiresAt: Number(row.expires_at) } : null;
  }

  return {
    locked(instanceId, work) {
      return inLockedTransaction(instanceId, async (client) => {
        const row = await readRow(client, instanceId);
        return work(row, async (next, now) => {
          await client
            .query(
              `INSERT INTO access_tokens (instance_id, sealed, key_id, expires_at, updated_at) VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (instance_id) DO UPDATE SET sealed = excluded.sealed, key_id = excluded.key_id,
                 expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
              [instanceId, next.sealed, next.keyId, next.expiresAt, now],
            )
            .catch(rethrowUnavailable('could not write the token row'));
        });
      });
    },

    remove(instanceId, matches) {
      return inLockedTransaction(instanceId, async (client) => {
        const row = await readRow(client, instanceId);
        if (row === null || (matches && !matches(row))) return false;
        // The lock is held: the row read is the row deleted.
        await client
          .query('DELETE FROM access_tokens WHERE instance_id = $1', [instanceId])
          .catch(rethrowUnavailable('could not delete the token row'));
        return true;
      });
    },
  };
}

function unavailable(what: string, err: unknown): StorageUnavailableError {
  const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  const reason = err instanceof Error ? err.message : String(err);
  return new StorageUnavailableError(`shared token row: ${what}: ${reason}`, code);
}

function rethrowUnavailable(what: string): (err: unknown) => never {
  return (err) => {
    throw unavailable(what, err);
  };
}

/** At most `limit` holders at once; the others wait in arrival order, each at most `waitMs` (then StorageUnavailableError). */
function createSlots(limit: number) {
  let inUse = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else inUse--;
  };
  return {
    acquire(waitMs: number): Promise<() => void> {
      if (inUse < limit) {
        inUse++;
        return Promise.resolve(release);
      }
      return new Promise((resolve, reject) => {
        // A slot handed over by `release` keeps `inUse` as it is: the holder changes, not the count.
        const take = () => {
          clearTimeout(timer);
          resolve(release);
        };
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(take), 1);
          reject(new StorageUnavailableError(`shared token row: no free connection within ${waitMs} ms`));
        }, waitMs);
        waiting.push(take);
      });
    },
  };
}
