/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';

/**
 * A panel that shows one table: a heading with a line under it, then either a sentence saying
 * there is nothing to show, or the table in a scrollable region (cards on narrow screens) with a
 * caption for screen readers. The installation, outbox and change pages build their tables on it.
 */
export function TablePanel(props: {
  /** Prefix of the heading's id (`<id>-heading`), which names the section. */
  id: string;
  title: Child;
  subtitle: Child;
  /** The region's accessible name, and the caption unless `caption` is given. */
  label: string;
  caption?: string;
  testId: string;
  /** A panel below another one on the page (spaced from it). */
  spaced?: boolean;
  /** Shown instead of the table when there are no rows. */
  empty: Child | null;
  /** The header cells. */
  head: Child;
  /** The rows. */
  children: Child;
  /** After the table (a pager). */
  footer?: Child;
}) {
  const headingId = `${props.id}-heading`;
  return (
    <section class={props.spaced ? 'panel section' : 'panel'} aria-labelledby={headingId}>
      <div class="panel-head">
        <h2 id={headingId}>{props.title}</h2>
        <p>{props.subtitle}</p>
      </div>
      {props.empty !== null ? (
        <p class="empty">{props.empty}</p>
      ) : (
        <div class="table-wrap" role="region" aria-label={props.label} tabindex={0}>
          <table class="cards" data-testid={props.testId}>
            <caption class="visually-hidden">{props.caption ?? props.label}</caption>
            <thead>
              <tr>{props.head}</tr>
            </thead>
            <tbody>{props.children}</tbody>
          </table>
        </div>
      )}
      {props.footer}
    </section>
  );
}
