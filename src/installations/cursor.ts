import { AppError } from '../errors.ts';
import { INSTALLATION_SORTS, SORT_ORDERS, type InstallationSort, type Position, type SortOrder } from './query-schemas.ts';

interface CursorPosition extends Position {
  sort: InstallationSort;
  order: SortOrder;
}

/** Opaque to clients: base64url of the last row's position, and which sort and order it is for. */
export function encodeCursor(position: CursorPosition): string {
  const value: unknown[] = [position.sort, position.order, position.key, position.instanceId];
  if (position.key === null) value.push(position.installedAt);
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The cursor's position, or AppError('bad_request') if it is not one, or is for another sort. */
export function decodeCursor(cursor: string, expected: { sort: InstallationSort; order: SortOrder }): Position {
  const position = readCursor(cursor);
  if (!position) throw new AppError('bad_request', 'cursor: not a cursor this API returned');
  if (position.sort !== expected.sort || position.order !== expected.order) {
    throw new AppError(
      'bad_request',
      `cursor: it continues sort=${position.sort}&order=${position.order}, not sort=${expected.sort}&order=${expected.order}; send the same sort and order as the first page, or no cursor`,
    );
  }
  const { sort: _sort, order: _order, ...rest } = position;
  return rest;
}

function readCursor(cursor: string): CursorPosition | null {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(value)) return null;
  // The first release's cursors: [installedAt, instanceId], newest first.
  if (value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string' && value[1]) {
    return { sort: 'installedAt', order: 'desc', key: value[0] as number, instanceId: value[1] };
  }
  const [sort, order, key, instanceId, installedAt] = value as unknown[];
  if (!INSTALLATION_SORTS.includes(sort as InstallationSort) || !SORT_ORDERS.includes(order as SortOrder)) return null;
  if (typeof instanceId !== 'string' || !instanceId) return null;
  const base = { sort: sort as InstallationSort, order: order as SortOrder, instanceId };
  if (value.length === 4 && Number.isSafeInteger(key)) return { ...base, key: key as number };
  if (value.length === 5 && key === null && sort === 'removedAt' && Number.isSafeInteger(installedAt)) {
    return { ...base, key: null, installedAt: installedAt as number };
  }
  return null;
}
