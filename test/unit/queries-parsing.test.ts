import { describe, expect, it } from 'vitest';
import { printable } from '../../src/cli/installs.ts';
import { AppError } from '../../src/errors.ts';
import { escapeLike } from '../../src/db/like-pattern.ts';
import { decodeCursor, encodeCursor } from '../../src/installations/cursor.ts';
import { csvField, csvRecord } from '../../src/installations/export-format.ts';
import {
  installationExportQuerySchema,
  installationFiltersSchema,
  installationListQuerySchema,
  parseIsoInstant,
} from '../../src/installations/query-schemas.ts';
import { parseInput } from '../../src/parse-input.ts';

describe('parseIsoInstant', () => {
  it.each([
    ['2026-10-01', Date.UTC(2026, 9, 1)],
    ['2026-10-01T12:30:00Z', Date.UTC(2026, 9, 1, 12, 30)],
    ['2026-10-01T12:30Z', Date.UTC(2026, 9, 1, 12, 30)],
    ['2026-10-01t12:30:00z', Date.UTC(2026, 9, 1, 12, 30)],
    ['2026-10-01T12:30:00.5Z', Date.UTC(2026, 9, 1, 12, 30, 0, 500)],
    ['2026-10-01T12:30:00.123456789Z', Date.UTC(2026, 9, 1, 12, 30, 0, 123)],
    ['2026-10-01T14:30:00+02:00', Date.UTC(2026, 9, 1, 12, 30)],
    ['2026-10-01T14:30:00 02:00', Date.UTC(2026, 9, 1, 12, 30)], // a + that became a space
    ['2026-10-01T07:30:00-05:00', Date.UTC(2026, 9, 1, 12, 30)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
  ])('%s', (text, ms) => {
    expect(parseIsoInstant(text)).toBe(ms);
  });

  it.each([
    '',
    'yesterday',
    '2026-10-01T12:30:00', // no zone
    '2026-02-29',
    '2026-02-30',
    '2026-13-01',
    '2026-00-10',
    '2026-10-00',
    '2026-10-01T24:00:00Z',
    '2026-10-01T12:60:00Z',
    '2026-10-01T12:30:61Z',
    '2026-10-01 12:30:00Z',
    '20261001',
    '1700000000000',
    '2026-10-01T12:30:00+0200',
  ])('refuses %j', (text) => {
    expect(parseIsoInstant(text)).toBeNull();
  });
});

describe('the filter schemas', () => {
  it('turn times into epoch ms and apply defaults', () => {
    expect(parseInput(installationListQuerySchema, { installedFrom: '2026-10-01', q: 'x' })).toEqual({
      installedFrom: Date.UTC(2026, 9, 1),
      q: 'x',
      sort: 'installedAt',
      order: 'desc',
      limit: 50,
    });
    expect(parseInput(installationExportQuerySchema, {})).toEqual({ sort: 'installedAt', order: 'desc', format: 'ndjson' });
    expect(parseInput(installationFiltersSchema, { plan: 'paid', status: 'active' })).toEqual({ plan: 'paid', status: 'active' });
  });

  it('name every bad parameter in one bad_request', () => {
    let error: unknown;
    try {
      parseInput(installationListQuerySchema, { status: 'x', limit: '0', extra: '1', installedFrom: 'no' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('bad_request');
    for (const name of ['status', 'limit', 'extra', 'installedFrom']) expect((error as AppError).message).toContain(name);
  });

  it('rename parameters for the CLI', () => {
    expect(() => parseInput(installationListQuerySchema, { installedFrom: 'no' }, (k) => `--${k}`)).toThrow(/--installedFrom/);
  });

  it('refuse an empty or backwards range', () => {
    expect(() => parseInput(installationFiltersSchema, { removedFrom: '2026-10-02', removedTo: '2026-10-01' })).toThrow(/removedTo/);
    expect(() => parseInput(installationFiltersSchema, { installedFrom: '2026-10-01', installedTo: '2026-10-01' })).toThrow(/installedTo/);
  });

  it('the list takes no format, the export no limit or cursor', () => {
    expect(() => parseInput(installationListQuerySchema, { format: 'csv' })).toThrow(/format/);
    expect(() => parseInput(installationExportQuerySchema, { limit: '5' })).toThrow(/limit/);
    expect(() => parseInput(installationExportQuerySchema, { cursor: 'abc' })).toThrow(/cursor/);
  });
});

describe('cursors', () => {
  it('round-trip, with a null key (and the install time) under removedAt', () => {
    const cursor = encodeCursor({ sort: 'removedAt', order: 'asc', key: null, instanceId: 'i-1', installedAt: 7 });
    expect(decodeCursor(cursor, { sort: 'removedAt', order: 'asc' })).toEqual({ key: null, instanceId: 'i-1', installedAt: 7 });
    const other = encodeCursor({ sort: 'updatedAt', order: 'desc', key: 5, instanceId: 'i-2' });
    expect(decodeCursor(other, { sort: 'updatedAt', order: 'desc' })).toEqual({ key: 5, instanceId: 'i-2' });
  });

  it('belong to one sort and order', () => {
    const cursor = encodeCursor({ sort: 'updatedAt', order: 'desc', key: 5, instanceId: 'i' });
    expect(() => decodeCursor(cursor, { sort: 'updatedAt', order: 'asc' })).toThrow(/sort=updatedAt&order=desc/);
    expect(() => decodeCursor(cursor, { sort: 'installedAt', order: 'desc' })).toThrow(AppError);
  });

  it.each([
    ['not base64 JSON', '!!'],
    ['a number', Buffer.from('5').toString('base64url')],
    ['a null key outside removedAt', Buffer.from('["installedAt","desc",null,"i",5]').toString('base64url')],
    ['a null key without an install time', Buffer.from('["removedAt","desc",null,"i"]').toString('base64url')],
    ['a fractional key', Buffer.from('["installedAt","desc",1.5,"i"]').toString('base64url')],
    ['an empty id', Buffer.from('["installedAt","desc",1,""]').toString('base64url')],
    ['an unknown sort', Buffer.from('["name","desc",1,"i"]').toString('base64url')],
  ])('refuse %s', (_name, cursor) => {
    expect(() => decodeCursor(cursor, { sort: 'installedAt', order: 'desc' })).toThrow(/not a cursor this API returned/);
  });
});

describe('escapeLike', () => {
  it('escapes the wildcards and the escape character', () => {
    expect(escapeLike('100%_a\\b')).toBe('100\\%\\_a\\\\b');
    expect(escapeLike('plain')).toBe('plain');
  });
});

describe('CSV fields (RFC 4180)', () => {
  it.each([
    [null, ''],
    [undefined, ''],
    [true, 'true'],
    [false, 'false'],
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rhere', '"cr\rhere"'],
    ['=1+1', "'=1+1"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['=A1,"x"', `"'=A1,""x"""`],
    ['a=b', 'a=b'],
  ])('%j → %s', (value, field) => {
    expect(csvField(value)).toBe(field);
  });

  it('records end in CRLF', () => {
    expect(csvRecord(['a', null, 'b,c'])).toBe('a,,"b,c"\r\n');
  });
});

describe('printable (CLI tables)', () => {
  it('shows control characters as escapes and leaves the rest', () => {
    expect(printable('Line\nbreak\t\u001b[31mred\u007f Café')).toBe('Line\\nbreak\\t\\x1b[31mred\\x7f Café');
  });
});
