import { describe, expect, it } from 'vitest';
import { detectFormat, parseImportFile } from '../../src/reconcile/import-file.ts';

const A = '3bbcabc7-1111-4c2d-9a1e-000000000001';
const B = '3bbcabc7-1111-4c2d-9a1e-000000000002';
const C = '3bbcabc7-1111-4c2d-9a1e-000000000003';

describe('import files', () => {
  it('CSV with a header: the instanceId column wherever it is, quoted fields, CRLF', () => {
    const parsed = parseImportFile(`siteName,instanceId,plan\r\n"Bakery, Inc.",${A},pro\r\n"Say ""hi""",${B},\r\n`, 'csv');
    expect(parsed).toEqual({ format: 'csv', ids: [A, B], duplicates: 0, header: true, problems: [] });
  });

  it('CSV without a header: the first column', () => {
    expect(parseImportFile(`${A},My site\n${B},Other\n`, 'csv')).toMatchObject({ ids: [A, B], header: false, problems: [] });
    expect(parseImportFile(`${A}\n${B}`, 'csv')).toMatchObject({ ids: [A, B], header: false });
  });

  it('CSV whose header names other columns: a first row that is no id above rows of GUIDs is a header', () => {
    expect(parseImportFile(`id,name\n${A},x\n${B},y\n`, 'csv')).toMatchObject({ ids: [A, B], header: true, problems: [] });
    expect(parseImportFile(`instance_id\n${A}\n`, 'csv')).toMatchObject({ ids: [A], header: true });
  });

  it('blank lines and duplicates: each id once, in file order, duplicates counted', () => {
    expect(parseImportFile(`\n${A}\n\n  \n${B}\n${A}\n,\n${C}\n${B}\n`, 'csv')).toMatchObject({
      ids: [A, B, C],
      duplicates: 2,
      problems: [],
    });
  });

  it('NDJSON: one object per line with instanceId; blank lines and duplicates as in CSV', () => {
    const parsed = parseImportFile(`{"instanceId":"${A}","siteName":"x"}\n\n{"instanceId": "${B}"}\r\n{"instanceId":"${A}"}\n`, 'ndjson');
    expect(parsed).toEqual({ format: 'ndjson', ids: [A, B], duplicates: 1, header: false, problems: [] });
  });

  it('names every line that is not an instance id', () => {
    expect(parseImportFile(`{"instanceId":"${A}"}\nnot json\n{"id":"${B}"}\n{"instanceId":"has space"}\n`, 'ndjson').problems).toEqual([
      'line 2: not JSON',
      'line 3: no "instanceId" string',
      'line 4: not an instance id: "has space"',
    ]);
    expect(parseImportFile(`${A}\nbad id here\n`, 'csv').problems).toEqual(['line 2: not an instance id: "bad id here"']);
  });

  it('detects the format by name, then extension, then content; a byte-order mark is ignored', () => {
    expect(detectFormat('ids.txt', `{"instanceId":"${A}"}`)).toBe('ndjson');
    expect(detectFormat('ids.txt', A)).toBe('csv');
    expect(detectFormat('ids.jsonl', A)).toBe('ndjson');
    expect(detectFormat('ids.ndjson', A, 'csv')).toBe('csv');
    expect(parseImportFile(`\uFEFFinstanceId\n${A}\n`, 'csv')).toMatchObject({ ids: [A], header: true });
  });
});
