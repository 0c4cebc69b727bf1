import { fileURLToPath } from 'node:url';

/** Where the registry keeps its data, as DATABASE_URL names it. */
export type DatabaseLocation = { engine: 'sqlite'; path: string };

/**
 * Reads DATABASE_URL: a SQLite file path or `file:` URL. Throws with a message naming what is
 * wrong (config.ts turns it into a configuration error).
 */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (url.startsWith('file://')) return { engine: 'sqlite', path: fileURLToPath(url) };
  if (url.startsWith('file:')) return { engine: 'sqlite', path: url.slice('file:'.length) };
  return { engine: 'sqlite', path: url };
}
