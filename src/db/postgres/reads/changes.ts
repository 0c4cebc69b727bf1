import type pg from 'pg';
import type { ChangeRecord } from '../../../changes/model.ts';
import type { StoreReads } from '../../store.ts';

/** The columns of changes under the domain's names (installation is jsonb: it arrives parsed). */
const CHANGE_COLUMNS = `position, id, type, instance_id AS "instanceId", occurred_at AS "occurredAt", recorded_at AS "recordedAt", installation`;

/** The change feed's reads (subscribe is the store's: LISTEN/NOTIFY). */
export function createChangeReads(pool: pg.Pool): StoreReads['changes'] {
  return {
    /**
     * The feed after `after`, oldest first, and the highest position committed. One statement,
     * so `last` and the rows come from one snapshot: no row of the page is above `last`. That
     * no lower position can still commit is the writer's part (positions assigned in commit
     * order: src/db/store.ts, `changes`).
     */
    async page(after, limit) {
      const { rows } = await pool.query<Omit<ChangeRecord, 'position'> & { position: number | null; last: number }>(
        `SELECT newest.last, c.* FROM (SELECT coalesce(max(position), 0) AS last FROM changes) newest
         LEFT JOIN LATERAL (SELECT ${CHANGE_COLUMNS} FROM changes WHERE position > $1 ORDER BY position LIMIT $2) c ON true`,
        [after, limit],
      );
      const last = rows[0]?.last ?? 0;
      // An empty page is the one row of `newest`, with no change beside it.
      const changes = rows.flatMap(({ position, id, type, instanceId, occurredAt, recordedAt, installation }): ChangeRecord[] =>
        position === null ? [] : [{ position, id, type, instanceId, occurredAt, recordedAt, installation }],
      );
      return { rows: changes, last };
    },

    async latest(filter) {
      const before = filter.before ?? Number.MAX_SAFE_INTEGER;
      const { rows } = await (filter.instanceId
        ? pool.query<ChangeRecord>(
            `SELECT ${CHANGE_COLUMNS} FROM changes WHERE instance_id = $1 AND position < $2 ORDER BY position DESC LIMIT $3`,
            [filter.instanceId, before, filter.limit],
          )
        : pool.query<ChangeRecord>(`SELECT ${CHANGE_COLUMNS} FROM changes WHERE position < $1 ORDER BY position DESC LIMIT $2`, [
            before,
            filter.limit,
          ]));
      return rows;
    },

    async get(position) {
      const { rows } = await pool.query<ChangeRecord>(`SELECT ${CHANGE_COLUMNS} FROM changes WHERE position = $1`, [position]);
      return rows[0] ?? null;
    },
  };
}
