import { fileURLToPath } from 'node:url';

/** Where the registry keeps its data, as DATABASE_URL names it. */
export type DatabaseLocation =
  | { engine: 'sqlite'; path: string }
  /** `url` carries the password (connect with it, never log it); `location` is the same URL without it. */
  | { engine: 'postgres'; url: string; location: string };

/** A DATABASE_URL that cannot be used: the message names the problem and never repeats a credential. */
export class DatabaseUrlError extends Error {
  override name = 'DatabaseUrlError';
}

/** `scheme://…`: a URL rather than a file path (a Windows drive letter has no `//`). */
const URL_SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/**
 * Reads DATABASE_URL: `postgres://` or `postgresql://` is PostgreSQL; a file path or `file:` URL
 * is SQLite. Any other `scheme://` is refused: taken for a path it would create a folder named
 * after the scheme (`mysql:`) and run an empty registry there. Throws a DatabaseUrlError with a
 * message fit for a configuration error (config.ts).
 */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  const scheme = URL_SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return { engine: 'postgres', url, location: withoutPassword(url) };
  if (scheme !== undefined && scheme !== 'file') {
    throw new DatabaseUrlError(`the scheme "${scheme}" is not supported: use postgres:// (or postgresql://), a file path or a file: URL`);
  }
  if (url.startsWith('file://')) {
    try {
      return { engine: 'sqlite', path: fileURLToPath(url) };
    } catch {
      throw new DatabaseUrlError('must be a file path or a valid file: URL');
    }
  }
  if (url.startsWith('file:')) return { engine: 'sqlite', path: url.slice('file:'.length) };
  return { engine: 'sqlite', path: url };
}

/** The URL for logs: its password (in the user info or a `password` parameter) left out. */
function withoutPassword(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseUrlError('is not a valid postgres:// URL');
  }
  parsed.password = '';
  if (parsed.searchParams.has('password')) parsed.searchParams.delete('password');
  return parsed.toString();
}

/** What logs and `store.location` show for a location. */
export const describeLocation = (location: DatabaseLocation): string => (location.engine === 'sqlite' ? location.path : location.location);
