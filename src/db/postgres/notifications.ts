import pg from 'pg';
import type { Logger } from '../../logger.ts';
import { CONNECT_TIMEOUT_MS } from './connection.ts';
import { CHANGES_CHANNEL } from './write-statements.ts';

/** After the LISTEN connection is lost, it is opened again after this long (and again, until closed). */
export const LISTEN_RECONNECT_MS = 1_000;

export interface ChangeNotifications {
  /** Resolves once the first LISTEN is in place (or failed: the store still works, from its own commits). */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * The change feed's doorbell across replicas: a connection of its own that LISTENs on the channel
 * insertChange notifies (delivered at COMMIT, by any process writing the database), and calls
 * `onPosition` with each notified position. A lost connection is opened again; on every (re)connect
 * the newest position committed is announced, since notifications sent while it was away are gone.
 */
export function listenForChanges(url: string, onPosition: (position: number) => void, logger?: Pick<Logger, 'warn'>): ChangeNotifications {
  let closed = false;
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | undefined;

  async function connect(): Promise<void> {
    if (closed) return;
    const connection = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      application_name: 'wix-registry listen',
    });
    client = connection;
    let lost = false;
    const reconnect = (error?: Error) => {
      if (lost) return;
      lost = true;
      void connection.end().catch(() => undefined);
      if (closed) return;
      if (error) logger?.warn({ err: { message: error.message } }, 'the change notifications connection was lost; reconnecting');
      retry = setTimeout(() => void connect(), LISTEN_RECONNECT_MS);
      retry.unref();
    };
    connection.on('error', reconnect);
    connection.on('end', () => reconnect());
    connection.on('notification', (message) => {
      const position = Number(message.payload);
      if (message.channel === CHANGES_CHANNEL && Number.isSafeInteger(position)) onPosition(position);
    });
    try {
      await connection.connect();
      await connection.query(`LISTEN ${CHANGES_CHANNEL}`);
      const { rows } = await connection.query<{ last: number }>('SELECT coalesce(max(position), 0)::bigint AS last FROM changes');
      if (rows[0] && rows[0].last > 0) onPosition(rows[0].last);
    } catch (error) {
      reconnect(error as Error);
    }
  }

  const ready = connect();
  return {
    ready,
    async close() {
      closed = true;
      clearTimeout(retry);
      await ready;
      await client?.end().catch(() => undefined);
    },
  };
}
