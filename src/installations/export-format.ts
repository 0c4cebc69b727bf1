import type { InstallationRecord } from './model.ts';
import type { ExportFormat } from './query-schemas.ts';
import { INSTALLATION_EXPORT_COLUMNS, toInstallation, toExportRow, type Installation } from './serialize.ts';

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
};

export function exportFilename(format: ExportFormat): string {
  return `installations.${format}`;
}

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
  const record = toExportRow(installation);
  return csvRecord(INSTALLATION_EXPORT_COLUMNS.map((column) => record[column]));
}

/** One page of an export as text; the CSV header row goes before the first page. */
export function formatExportPage(format: ExportFormat, rows: readonly InstallationRecord[], first: boolean): string {
  const header = first && format === 'csv' ? csvRecord(INSTALLATION_EXPORT_COLUMNS) : '';
  return header + rows.map((row) => formatInstallation(format, toInstallation(row))).join('');
}
