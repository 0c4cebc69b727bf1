/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import { Time } from './format.tsx';

/** What a fact with no value shows. */
export const dash = <span class="muted">—</span>;
export const text = (value: string | null | undefined) => (value ? value : dash);
export const yesNo = (value: boolean | null | undefined) => (value === true ? 'Yes' : value === false ? 'No' : dash);

/** A definition list of label → value rows. */
export function Facts(props: { rows: [label: string, value: Child][] }) {
  return (
    <dl class="facts">
      {props.rows.map(([label, value]) => (
        <>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </>
      ))}
    </dl>
  );
}

/** A moment as a fact: `2026-10-05 14:03 UTC`, or `missing` (a dash unless told) when there is none. */
export function UtcTime(props: { iso: string | null | undefined; missing?: Child; children?: Child }) {
  if (!props.iso) return props.missing ?? dash;
  return (
    <span>
      <Time iso={props.iso} /> UTC{props.children}
    </span>
  );
}
