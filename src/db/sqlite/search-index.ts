import type Database from 'better-sqlite3';

/** Rows the writer indexes per round when it is otherwise idle. */
export const SEARCH_INDEX_SLICE_ROWS = 2_000;
/** Past this many pending rows the writer indexes a slice after every transaction, busy or not. */
export const SEARCH_PENDING_HIGH_WATER = 20_000;

/**
 * The search index (FTS5 trigram, installations_search) is kept off the webhook path: a new
 * installation is only noted in search_pending (migration 0011), and the writer tokenizes pending
 * rows here, a slice at a time, when it has nothing else to do. Searches read pending rows
 * directly, so they stay exact while the index catches up.
 */
export function createSearchIndexer(sqlite: Database.Database) {
  const pendingRows = sqlite
    .prepare<[number], number>('SELECT installation_rowid FROM search_pending ORDER BY installation_rowid LIMIT ?')
    .pluck();
  // Rowids only grow and pending rows are few gaps apart: the span is a one-probe estimate of the backlog.
  const pendingSpan = sqlite
    .prepare<[], number | null>('SELECT max(installation_rowid) - min(installation_rowid) + 1 FROM search_pending')
    .pluck();
  const index = sqlite.prepare<[number]>(
    'INSERT INTO installations_search (rowid, site_name, site_url, instance_id) SELECT rowid, site_name, site_url, instance_id FROM installations WHERE rowid = ?',
  );
  const done = sqlite.prepare<[number]>('DELETE FROM search_pending WHERE installation_rowid = ?');
  const slice = sqlite.transaction((rows: number[]) => {
    for (const rowid of rows) {
      index.run(rowid);
      done.run(rowid);
    }
  });
  return {
    /** Indexes up to `limit` pending rows in one transaction; how many it indexed. */
    indexSlice(limit = SEARCH_INDEX_SLICE_ROWS): number {
      const rows = pendingRows.all(limit);
      if (rows.length > 0) slice.immediate(rows);
      return rows.length;
    },
    /** About how many rows wait to be indexed. */
    backlog: () => pendingSpan.get() ?? 0,
  };
}
