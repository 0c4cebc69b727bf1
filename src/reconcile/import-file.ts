/**
 * Reads the instance ids of `wix-registry import <file>` (contract.md): CSV (a column named
 * `instanceId`, else the first column; a header row is optional) or NDJSON (`{"instanceId": "…"}`
 * per line). Blank lines are skipped; an id listed twice is imported once. Pure: text in, ids out.
 */

export type ImportFormat = 'csv' | 'ndjson';

export interface ParsedImport {
  format: ImportFormat;
  /** Distinct ids, in file order. */
  ids: string[];
  /** Ids listed again after their first line. */
  duplicates: number;
  /** The CSV's first row was a header. */
  header: boolean;
  /** Lines that are not an instance id, as `line N: why`; nothing is imported while there are any. */
  problems: string[];
}

/** Instance ids are GUIDs (docs/wix-protocol.md §1); anything printable without spaces, quotes or commas is accepted. */
const PLAUSIBLE_ID = /^[^\s,"'\u0000-\u001f\u007f]{1,200}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEADER_NAME = /^instance[_ -]?id$/i;

/** The format named, else by the file's extension, else by its first non-blank line. */
export function detectFormat(path: string, text: string, named?: string): ImportFormat {
  if (named === 'csv' || named === 'ndjson') return named;
  if (/\.(ndjson|jsonl)$/i.test(path)) return 'ndjson';
  if (/\.csv$/i.test(path)) return 'csv';
  const first = text.split(/\r?\n/).find((line) => line.trim() !== '');
  return first?.trimStart().startsWith('{') ? 'ndjson' : 'csv';
}

export function parseImportFile(text: string, format: ImportFormat): ParsedImport {
  const body = text.replace(/^\uFEFF/, '');
  const listed = format === 'ndjson' ? readNdjson(body) : readCsv(body);
  const problems = [...listed.problems];
  const seen = new Set<string>();
  let duplicates = 0;
  for (const { line, value } of listed.values) {
    if (!PLAUSIBLE_ID.test(value)) problems.push(`line ${line}: not an instance id: ${JSON.stringify(value.slice(0, 60))}`);
    else if (seen.has(value)) duplicates++;
    else seen.add(value);
  }
  return { format, ids: [...seen], duplicates, header: listed.header, problems };
}

interface Listed {
  values: { line: number; value: string }[];
  header: boolean;
  problems: string[];
}

function readNdjson(text: string): Listed {
  const values: Listed['values'] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      problems.push(`line ${i + 1}: not JSON`);
      return;
    }
    const id = (parsed as { instanceId?: unknown } | null)?.instanceId;
    if (typeof id !== 'string' || id.trim() === '') problems.push(`line ${i + 1}: no "instanceId" string`);
    else values.push({ line: i + 1, value: id.trim() });
  });
  return { values, header: false, problems };
}

function readCsv(text: string): Listed {
  const rows = parseCsvRows(text).filter((row) => row.cells.some((cell) => cell.trim() !== ''));
  if (rows.length === 0) return { values: [], header: false, problems: [] };
  const first = rows[0]!.cells.map((cell) => cell.trim());
  let column = first.findIndex((cell) => HEADER_NAME.test(cell));
  let header = column >= 0;
  if (!header) {
    column = 0;
    // A header naming some other column: its first cell is no GUID while the ids below are.
    header = !UUID.test(first[0]!) && rows.slice(1).some((row) => UUID.test((row.cells[0] ?? '').trim()));
  }
  const values: Listed['values'] = [];
  for (const row of rows.slice(header ? 1 : 0)) {
    const value = (row.cells[column] ?? '').trim();
    if (value !== '') values.push({ line: row.line, value });
  }
  return { values, header, problems: [] };
}

/** RFC 4180 records: quoted fields (with "" for a quote, and line breaks inside), CRLF or LF. */
export function parseCsvRows(text: string): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        if (ch === '\n') line++;
        cell += ch;
      }
    } else if (ch === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      cells.push(cell);
      rows.push({ line: rowLine, cells });
      cells = [];
      cell = '';
      line++;
      rowLine = line;
    } else {
      cell += ch;
    }
  }
  if (cell !== '' || cells.length > 0) {
    cells.push(cell);
    rows.push({ line: rowLine, cells });
  }
  return rows;
}
