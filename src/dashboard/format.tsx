/** @jsxImportSource hono/jsx */
import type { Installation } from '../installations/serialize.ts';

/** `2026-10-05 14:03` (UTC; the column headers say so). */
export function formatDateTime(isoText: string): string {
  return `${isoText.slice(0, 10)} ${isoText.slice(11, 16)}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Oct 5` for a `2026-10-05` day. */
export function formatDay(day: string): string {
  return `${MONTHS[Number(day.slice(5, 7)) - 1] ?? ''} ${Number(day.slice(8, 10))}`;
}

export function Time(props: { iso: string | null | undefined; empty?: string }) {
  if (!props.iso) return <span class="muted">{props.empty ?? '—'}</span>;
  return (
    <time datetime={props.iso} title={props.iso}>
      {formatDateTime(props.iso)}
    </time>
  );
}

export function Badge(props: { value: string; label?: string }) {
  return <span class={`badge badge-${props.value.replace(/[^a-z0-9-]/gi, '')}`}>{props.label ?? props.value}</span>;
}

/** Only http(s) URLs become links: a site URL is data from outside, never a javascript: href. */
export function safeHref(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
  } catch {
    return null;
  }
}

export function installationPath(instanceId: string): string {
  return `/dashboard/installations/${encodeURIComponent(instanceId)}`;
}

/** The plan in a few words: the product and cycle when known, else free or paid. */
export function Plan(props: { plan: Installation['plan'] }) {
  const { plan } = props;
  if (plan.vendorProductId) {
    return (
      <span>
        <Badge value="paid" label={plan.vendorProductId} />
        {plan.cycle ? <span class="muted small"> {plan.cycle.toLowerCase()}</span> : null}
      </span>
    );
  }
  if (plan.isFree === false) return <Badge value="paid" label="Paid" />;
  if (plan.isFree === true) return <span>Free</span>;
  return (
    <span class="muted" title="Not known until the site is synced from Wix">
      —
    </span>
  );
}

export function Site(props: { site: Installation['site'] }) {
  const href = safeHref(props.site.url);
  if (!props.site.name && !props.site.url) return <span class="muted">Not synced yet</span>;
  return (
    <span>
      {props.site.name ? <span class="site-name">{props.site.name}</span> : null}
      {props.site.url ? (
        href ? (
          <a class="site-url" href={href} rel="noopener noreferrer">
            <BreakableUrl url={props.site.url.replace(/^https?:\/\//, '')} />
          </a>
        ) : (
          <span class="site-url">
            <BreakableUrl url={props.site.url} />
          </span>
        )
      ) : null}
    </span>
  );
}

/** A URL that wraps after its dots and slashes rather than in the middle of a word. */
function BreakableUrl(props: { url: string }) {
  return (
    <>
      {props.url.split(/(?<=[./])/).map((part, i) => (
        <>
          {i > 0 ? <wbr /> : null}
          {part}
        </>
      ))}
    </>
  );
}

/** Wix's date strings (plan expiry) as the other times, when they are ISO date-times. */
export function WixDate(props: { value: string | null | undefined }) {
  if (!props.value) return <span class="muted">—</span>;
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(props.value) ? Date.parse(props.value) : NaN;
  if (Number.isNaN(ms)) return <span>{props.value}</span>;
  return (
    <span>
      <Time iso={new Date(ms).toISOString()} /> UTC
    </span>
  );
}
