import { and, asc, desc, eq, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { deliveries, installationEvents, installations } from '../db/schema/index.ts';
import { AppError } from '../errors.ts';
import { iso, toInstallation, type Installation } from './serialize.ts';

export const LIST_LIMIT_DEFAULT = 50;
export const LIST_LIMIT_MAX = 500;

export interface ListInstallationsQuery {
  status?: 'active' | 'removed' | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface InstallationPage {
  items: Installation[];
  nextCursor: string | null;
}

interface CursorPosition {
  installedAt: number;
  instanceId: string;
}

/** Opaque to clients: base64url of the last row's sort key. */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.installedAt, position.instanceId])).toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string') {
      return { installedAt: value[0] as number, instanceId: value[1] };
    }
  } catch {
    // fall through
  }
  throw new AppError('bad_request', 'cursor is not a cursor this API returned');
}

/** The questions developers ask of installations. */
export function createInstallationQueries(db: Db) {
  function list(query: ListInstallationsQuery): InstallationPage {
    const limit = query.limit ?? LIST_LIMIT_DEFAULT;
    const conditions: SQL[] = [];
    if (query.status) conditions.push(eq(installations.status, query.status));
    if (query.cursor) {
      const after = decodeCursor(query.cursor);
      // Keyset pagination on (installed_at, instance_id), newest first: stable under inserts.
      conditions.push(sql`(${installations.installedAt}, ${installations.instanceId}) < (${after.installedAt}, ${after.instanceId})`);
    }
    const rows = db
      .select()
      .from(installations)
      .where(and(...conditions))
      .orderBy(desc(installations.installedAt), desc(installations.instanceId))
      .limit(limit + 1)
      .all();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toInstallation),
      nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
    };
  }

  function get(instanceId: string) {
    const row = db.select().from(installations).where(eq(installations.instanceId, instanceId)).get();
    if (!row) return null;
    return { installation: toInstallation(row), events: history(instanceId) };
  }

  /** Every event stored for the instance, oldest first by iat. */
  function history(instanceId: string) {
    return db
      .select({
        eventType: installationEvents.eventType,
        issuedAt: installationEvents.issuedAt,
        receivedAt: installationEvents.receivedAt,
        payload: installationEvents.payload,
        outcome: deliveries.outcome,
      })
      .from(installationEvents)
      .innerJoin(deliveries, eq(deliveries.id, installationEvents.deliveryId))
      .where(eq(installationEvents.instanceId, instanceId))
      .orderBy(asc(installationEvents.issuedAt), asc(installationEvents.id))
      .all()
      .map((e) => ({
        eventType: e.eventType,
        issuedAt: iso(e.issuedAt),
        receivedAt: iso(e.receivedAt),
        outcome: e.outcome,
        data: e.payload.data,
        identity: e.payload.identity ?? null,
      }));
  }

  function counts() {
    const rows = db
      .select({ status: installations.status, count: sql<number>`count(*)` })
      .from(installations)
      .groupBy(installations.status)
      .all();
    const byStatus = Object.fromEntries(rows.map((r) => [r.status, r.count]));
    return { active: byStatus.active ?? 0, removed: byStatus.removed ?? 0 };
  }

  return { list, get, history, counts };
}

export type InstallationQueries = ReturnType<typeof createInstallationQueries>;
