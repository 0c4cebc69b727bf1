import { AppError } from '../errors.ts';

/** A cursor of the change feed: opaque to clients (base64url of a tagged position). Position 0: before the first change. */
export function encodeChangeCursor(position: number): string {
  return Buffer.from(JSON.stringify(['changes', position])).toString('base64url');
}

/** The position a cursor stands for, or AppError('bad_request') if it is not one this feed handed out. */
export function decodeChangeCursor(cursor: string, name = 'after'): number {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = null;
  }
  if (Array.isArray(value) && value.length === 2 && value[0] === 'changes' && Number.isSafeInteger(value[1]) && (value[1] as number) >= 0) {
    return value[1] as number;
  }
  throw new AppError('bad_request', `${name}: not a cursor of this feed (pass back a nextCursor it returned)`);
}
