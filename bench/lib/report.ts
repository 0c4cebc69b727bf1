/**
 * The report: one row per figure (section, figure, value, target, pass/FAIL), printed as one
 * markdown table at the end, and the number formats every section uses.
 */

export interface Row {
  section: string;
  figure: string;
  value: string;
  target: string;
  /** null: a figure without a target. */
  pass: boolean | null;
}

export interface Report {
  rows: Row[];
  row(section: string, figure: string, value: string, target?: string, pass?: boolean | null): void;
}

export function createReport(): Report {
  const rows: Row[] = [];
  return {
    rows,
    row: (section, figure, value, target = '', pass = null) => {
      rows.push({ section, figure, value, target, pass });
    },
  };
}

export function formatTable(rows: readonly Row[]): string {
  const lines = ['| Section | Figure | Value | Target | Result |', '|---|---|---|---|---|'];
  for (const r of rows) {
    const result = r.pass === null ? '' : r.pass ? 'pass' : '**FAIL**';
    lines.push(`| ${r.section} | ${r.figure} | ${r.value} | ${r.target} | ${result} |`);
  }
  return lines.join('\n');
}

export const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
export const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(n < 10 ? 2 : 1)} ms` : '–');
export const mb = (n: number) => (Number.isFinite(n) ? `${n.toFixed(0)} MB` : '–');
export const pct = (n: number) => (Number.isFinite(n) ? `${n.toFixed(0)}%` : '–');
export const times = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '–');

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const sum = (values: readonly number[]) => values.reduce((s, v) => s + v, 0);

/** Nearest-rank percentile of an ascending array (p in 0..100); NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Progress goes to stderr; stdout carries only the table. */
export const log = (line: string) => process.stderr.write(`${line}\n`);
