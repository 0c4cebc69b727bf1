import type { Clock } from '../clock.ts';
import type { RegistryStore } from '../db/store.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { createDailyStats } from './daily-stats.ts';
import { EXPORT_CONTENT_TYPES, exportFilename } from './export-format.ts';
import {
  LIST_LIMIT_DEFAULT,
  type InstallationExportQuery,
  type InstallationPage,
  type ListInstallationsQuery,
  type Position,
} from './query-schemas.ts';
import { toInstallation } from './serialize.ts';
import { iso } from './time.ts';

/**
 * The questions developers ask of installations (the HTTP API, the CLI and the dashboard ask the
 * same ones): input already parsed by the schemas in query-schemas.ts, answers in the API's shapes.
 */
export function createInstallationQueries(store: RegistryStore, options: { clock: Clock }) {
  /** The store's request for a query: its defaults applied and its cursor decoded. */
  function pageRequest(query: ListInstallationsQuery) {
    const sort = query.sort ?? 'installedAt';
    const order = query.order ?? 'desc';
    const { cursor, ...filters } = query;
    const after = cursor ? decodeCursor(cursor, { sort, order }) : null;
    const nextCursor = (next: Position | null) => (next ? encodeCursor({ sort, order, ...next }) : null);
    return { request: { ...filters, sort, order, limit: query.limit ?? LIST_LIMIT_DEFAULT, after }, nextCursor };
  }

  async function list(query: ListInstallationsQuery): Promise<InstallationPage> {
    const { request, nextCursor } = pageRequest(query);
    const page = await store.installations.page(request);
    return { items: page.rows.map(toInstallation), nextCursor: nextCursor(page.next) };
  }

  /**
   * The same page as `list`, as the response body: where the store can serialize off the event
   * loop (SQLite's readers), a 500-row page costs the event loop a string copy, not a JSON encode.
   */
  async function listJson(query: ListInstallationsQuery): Promise<string> {
    if (!store.installations.pageJson) return JSON.stringify(await list(query));
    const { request, nextCursor } = pageRequest(query);
    const page = await store.installations.pageJson(request);
    return `{"items":${page.itemsJson},"nextCursor":${JSON.stringify(nextCursor(page.next))}}`;
  }

  async function get(instanceId: string) {
    const [row, history] = await Promise.all([store.installations.get(instanceId), store.installations.history(instanceId)]);
    if (!row) return null;
    return {
      installation: toInstallation(row),
      events: history.map((e) => ({
        eventType: e.eventType,
        issuedAt: iso(e.issuedAt),
        receivedAt: iso(e.receivedAt),
        outcome: e.outcome,
        data: e.payload.data,
        identity: e.payload.identity ?? null,
      })),
    };
  }

  /**
   * Every match as a byte stream that reads one page each time the consumer asks for more
   * (pull), so a slow download holds one page in memory and no connection between pages. The
   * first page is read before the stream is returned: a failing query is then an error
   * response, not a cut-off file.
   */
  async function exportStream(query: InstallationExportQuery) {
    const { format, ...filters } = query;
    const chunks = await store.installations.exportChunks(filters, format);
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
      async cancel() {
        await chunks.return?.(undefined);
      },
    });
    return { body, contentType: EXPORT_CONTENT_TYPES[format], filename: exportFilename(format) };
  }

  return {
    list,
    listJson,
    get,
    exportStream,
    /** Every match, as text chunks (the CLI writes them to a file or stdout). */
    exportChunks: (query: InstallationExportQuery) => store.installations.exportChunks(query, query.format),
    counts: () => store.installations.counts(),
    daily: createDailyStats(store, options),
  };
}

export type InstallationQueries = ReturnType<typeof createInstallationQueries>;
