/**
 * A test's own connection to a registry database, the same on both engines: for looking at rows
 * and for changing them behind the registry's back.
 *
 * SQL is written once, in the dialect both engines share, with `?` placeholders (turned into
 * `$1, $2, …` for PostgreSQL). Rows come back as SQLite returns them, so an assertion holds on
 * either engine: PostgreSQL's booleans become 1 and 0, its bigint and numeric values numbers.
 * Quote a camelCase alias (`AS "runAfter"`): PostgreSQL folds unquoted names to lower case.
 */
import Database from 'better-sqlite3';
import pg from 'pg';

export type Row = Record<string, unknown>;
export type SqlParam = string | number | bigint | null | Buffer;

export interface TestDatabase {
  /** Every row of a statement (none for a statement that returns nothing). */
  query<T = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  /** The first column of the first row (undefined when there is no row): a count, one value. */
  value<T = unknown>(sql: string, params?: readonly SqlParam[]): Promise<T>;
  /** The first column of every row. */
  values<T = unknown>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  /** How many rows a row-changing statement changed. */
  run(sql: string, params?: readonly SqlParam[]): Promise<number>;
  /** Runs one statement once per parameter list, in one transaction: seeding many rows. */
  runMany(sql: string, paramLists: readonly (readonly SqlParam[])[]): Promise<void>;
  close(): Promise<void>;
}

/** A connection to the database DATABASE_URL names: a postgres:// URL, or a SQLite file path. */
export function openTestDatabase(databaseUrl: string): TestDatabase {
  return /^postgres(ql)?:\/\//.test(databaseUrl) ? openPostgres(databaseUrl) : openSqlite(databaseUrl);
}

/**
 * SQLite: a connection per call, closed at once, as the tests always did: a connection left open
 * would keep the file busy for the tests that lock, move or copy it.
 */
function openSqlite(path: string): TestDatabase {
  const withDb = <T>(use: (db: Database.Database) => T): T => {
    const db = new Database(path, { timeout: 5_000 });
    try {
      return use(db);
    } finally {
      db.close();
    }
  };
  const statement = (db: Database.Database, sql: string) => db.prepare(sql);
  return {
    query: async <T>(sql: string, params: readonly SqlParam[] = []) =>
      withDb((db) => {
        const prepared = statement(db, sql);
        if (prepared.reader) return prepared.all(...params) as T[];
        prepared.run(...params);
        return [];
      }),
    value: async <T>(sql: string, params: readonly SqlParam[] = []) =>
      withDb(
        (db) =>
          statement(db, sql)
            .pluck()
            .get(...params) as T,
      ),
    values: async <T>(sql: string, params: readonly SqlParam[] = []) =>
      withDb(
        (db) =>
          statement(db, sql)
            .pluck()
            .all(...params) as T[],
      ),
    run: async (sql, params = []) => withDb((db) => statement(db, sql).run(...params).changes),
    runMany: async (sql, paramLists) =>
      withDb((db) => {
        const prepared = statement(db, sql);
        db.transaction(() => paramLists.forEach((params) => prepared.run(...params)))();
      }),
    close: async () => {},
  };
}

/** int8 (count(*), epoch-ms columns) and numeric (sum()) as numbers, like SQLite's integers. */
const NUMERIC_TYPES = new Set([20, 1700]);
const testTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    NUMERIC_TYPES.has(oid)
      ? (text: string) => Number(text)
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

function openPostgres(url: string): TestDatabase {
  // Lazily: a test that never looks at rows opens no connection.
  let pool: pg.Pool | undefined;
  const connection = () => {
    if (pool) return pool;
    pool = new pg.Pool({ connectionString: url, max: 2, types: testTypes });
    // pg-pool's end() resolves before its connections have said goodbye: the drop that follows
    // (WITH (FORCE)) may terminate one of them, and that error on a closing connection means nothing.
    pool.on('connect', (client) => client.on('error', () => {}));
    pool.on('error', () => {});
    return pool;
  };
  const rowsOf = async (sql: string, params: readonly SqlParam[]) =>
    (await connection().query<Row>(postgresPlaceholders(sql), [...params])).rows.map(likeSqlite);
  return {
    query: async <T>(sql: string, params: readonly SqlParam[] = []) => (await rowsOf(sql, params)) as T[],
    value: async <T>(sql: string, params: readonly SqlParam[] = []) => {
      const [row] = await rowsOf(sql, params);
      return (row ? Object.values(row)[0] : undefined) as T;
    },
    values: async <T>(sql: string, params: readonly SqlParam[] = []) =>
      (await rowsOf(sql, params)).map((row) => Object.values(row)[0] as T),
    run: async (sql, params = []) => (await connection().query(postgresPlaceholders(sql), [...params])).rowCount ?? 0,
    runMany: async (sql, paramLists) => {
      const client = await connection().connect();
      const text = postgresPlaceholders(sql);
      try {
        await client.query('BEGIN');
        for (const params of paramLists) await client.query(text, [...params]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    },
    close: async () => {
      await pool?.end();
      pool = undefined;
    },
  };
}

/** A row as SQLite would have returned it: booleans as 1 and 0. */
function likeSqlite(row: Row): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) out[key] = typeof value === 'boolean' ? Number(value) : value;
  return out;
}

/**
 * `?` → `$1, $2, …`, outside quoted strings, quoted identifiers and comments (where a `?` is
 * just a character).
 */
export function postgresPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    const char = sql[i]!;
    if (char === "'" || char === '"') {
      const end = sql.indexOf(char, i + 1);
      const stop = end === -1 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (char === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (char === '?') {
      out += `$${++n}`;
    } else {
      out += char;
    }
  }
  return out;
}
