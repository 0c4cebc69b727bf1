import type pg from 'pg';
import type { DeliverySummary } from '../../../installations/model.ts';
import type { DashboardSessionRecord, StoredJwt, StoreReads, TokenHandoutRecord } from '../../store.ts';

/** Deliveries, the token audit and dashboard sessions: the records the registry keeps of who did what. */

export function createDeliveryReads(pool: pg.Pool): StoreReads['deliveries'] {
  // Pruned: a Wix delivery whose JWT is no longer in delivery_jwts (on PostgreSQL the raw JWT
  // lives only there). The registry's own events never had one: they are not "pruned".
  const columns = `id, event_type AS "eventType", instance_id AS "instanceId", issued_at AS "issuedAt", received_at AS "receivedAt", outcome,
    jwt_sha256 AS sha256, source, source = 'wix' AND NOT EXISTS (SELECT 1 FROM delivery_jwts j WHERE j.delivery_id = d.id) AS "jwtPruned"`;
  return {
    async list(filter) {
      const limit = filter.limit ?? 50;
      const { rows } = await (filter.instanceId
        ? pool.query<DeliverySummary>(`SELECT ${columns} FROM deliveries d WHERE instance_id = $1 ORDER BY id DESC LIMIT $2`, [
            filter.instanceId,
            limit,
          ])
        : pool.query<DeliverySummary>(`SELECT ${columns} FROM deliveries d ORDER BY id DESC LIMIT $1`, [limit]));
      return rows;
    },

    /** From delivery_jwts; null once pruned, and for the registry's own events (stored without one). */
    async jwt(deliveryId) {
      const { rows } = await pool.query<StoredJwt>(
        `SELECT nullif(j.jwt, '') AS jwt, d.received_at AS "receivedAt", d.source AS source
         FROM deliveries d LEFT JOIN delivery_jwts j ON j.delivery_id = d.id WHERE d.id = $1`,
        [deliveryId],
      );
      return rows[0] ?? null;
    },
  };
}

export function createAuditReads(pool: pg.Pool): StoreReads['audit'] {
  return {
    /**
     * A page of the token audit, newest first. Each filter leads an index that ends in
     * requested_at (instance, key, or time alone), so a page is an index range in order.
     */
    async tokenHandouts(request) {
      const where: string[] = [];
      const params: unknown[] = [];
      /** Adds a value to the query's parameters: its placeholder. */
      const param = (value: unknown) => `$${params.push(value)}`;
      if (request.instanceId !== undefined) where.push(`instance_id = ${param(request.instanceId)}`);
      if (request.apiKeyId !== undefined) where.push(`api_key_id = ${param(request.apiKeyId)}`);
      if (request.outcome !== undefined) where.push(`outcome = ${param(request.outcome)}`);
      if (request.since !== undefined) where.push(`requested_at >= ${param(request.since)}`);
      if (request.until !== undefined) where.push(`requested_at < ${param(request.until)}`);
      if (request.after) where.push(`(requested_at, id) < (${param(request.after.requestedAt)}, ${param(request.after.id)})`);
      const { rows } = await pool.query<TokenHandoutRecord>(
        `SELECT id, api_key_id AS "apiKeyId", instance_id AS "instanceId", requested_at AS "requestedAt", outcome,
           token_expires_at AS "tokenExpiresAt", request_id AS "requestId"
         FROM token_handouts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY requested_at DESC, id DESC LIMIT ${param(request.limit + 1)}`,
        params,
      );
      const more = rows.length > request.limit;
      if (more) rows.pop();
      const last = rows.at(-1);
      return { rows, next: more && last ? { requestedAt: last.requestedAt, id: last.id } : null };
    },
  };
}

const SESSION_COLUMNS = `id_hash AS "idHash", api_key_id AS "apiKeyId", created_at AS "createdAt", expires_at AS "expiresAt"`;

export function createSessionReads(pool: pg.Pool): StoreReads['sessions'] {
  return {
    async find(idHash) {
      const { rows } = await pool.query<DashboardSessionRecord>(`SELECT ${SESSION_COLUMNS} FROM dashboard_sessions WHERE id_hash = $1`, [
        idHash,
      ]);
      return rows[0] ?? null;
    },
    async list() {
      const { rows } = await pool.query<DashboardSessionRecord>(
        `SELECT ${SESSION_COLUMNS} FROM dashboard_sessions ORDER BY created_at DESC`,
      );
      return rows;
    },
  };
}
