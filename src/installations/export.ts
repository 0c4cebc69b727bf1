import type { ExportFormat, InstallationExportQuery, InstallationQueries } from './queries.ts';
import { INSTALLATION_EXPORT_COLUMNS, toInstallationRecord, type Installation } from './serialize.ts';

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
};

/** Cells a spreadsheet would run as a formula (OWASP "CSV injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field, RFC 4180: quoted when it holds a comma, a double quote, CR or LF, with inner
 * quotes doubled. null is an empty field. Site names and URLs come from whoever installed the
 * app, and CSV is for spreadsheets, so text that starts like a formula gets a leading `'`
 * (Excel and Sheets then show it as text); NDJSON carries every value exactly.
 */
export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV record with its CRLF line break (RFC 4180). */
export function csvRecord(fields: readonly (string | number | boolean | null | undefined)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

function formatInstallation(format: ExportFormat, installation: Installation): string {
  if (format === 'ndjson') return `${JSON.stringify(installation)}\n`;
  const record = toInstallationRecord(installation);
  return csvRecord(INSTALLATION_EXPORT_COLUMNS.map((column) => record[column]));
}

/**
 * The export as text chunks, one per page of rows read by keyset (queries.pages): the CSV
 * header travels with the first page. Pulling a chunk runs one query; nothing else is held.
 * A chunk can be empty (a page the walk budget cut short before any row matched).
 */
export function* exportInstallationChunks(queries: InstallationQueries, query: InstallationExportQuery): Generator<string> {
  let prefix = query.format === 'csv' ? csvRecord(INSTALLATION_EXPORT_COLUMNS) : '';
  for (const page of queries.pages(query)) {
    yield prefix + page.map((installation) => formatInstallation(query.format, installation)).join('');
    prefix = '';
  }
  if (prefix) yield prefix;
}

/**
 * The export as a byte stream that reads a page each time the consumer asks for more (pull),
 * so a slow download holds one page in memory and no statement open. The first page is read
 * before the stream is returned: a failing query is then an error response, not a cut-off file.
 */
export function createExportStream(queries: InstallationQueries, query: InstallationExportQuery): ReadableStream<Uint8Array> {
  const chunks = exportInstallationChunks(queries, query);
  const encoder = new TextEncoder();
  let ready: IteratorResult<string> | null = chunks.next();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const next = ready ?? chunks.next();
        ready = null;
        if (next.done) return controller.close();
        if (next.value) return controller.enqueue(encoder.encode(next.value));
        // An empty page: let webhooks and other requests run before reading the next one.
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
    cancel() {
      chunks.return(undefined);
    },
  });
}

export function exportFilename(format: ExportFormat): string {
  return `installations.${format}`;
}
