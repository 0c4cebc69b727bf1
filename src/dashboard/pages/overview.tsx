/** @jsxImportSource hono/jsx */
import type { DailyStats } from '../../installations/daily-stats.ts';
import type { Installation } from '../../installations/serialize.ts';
import { DailyChart } from '../chart.tsx';
import { SearchBox } from '../form-fields.tsx';
import { InstallationsTable, Pager } from '../installations-table.tsx';
import { Layout, type SignedInView } from '../layout.tsx';

export interface OverviewData {
  counts: { active: number; removed: number };
  outbox: Record<string, number>;
  daily: DailyStats;
  page: { items: Installation[]; nextCursor: string | null };
  nextHref: string | null;
}

/** One figure at a glance; `id` is also the `data-stat` tests and the browser check read. */
function Stat(props: { label: string; value: number; href?: string; note?: string; bad?: boolean; id: string }) {
  return (
    <li class={`stat${props.bad ? ' is-bad' : ''}`} data-stat={props.id}>
      <span class="stat-label" id={`${props.id}-label`}>
        {props.label}
      </span>
      <span class="stat-value">
        {props.href ? <a href={props.href}>{props.value.toLocaleString('en-US')}</a> : props.value.toLocaleString('en-US')}
      </span>
      {props.note ? <span class="stat-note">{props.note}</span> : null}
    </li>
  );
}

/** Counts at a glance, installs and removals per day, and the newest installations. */
export function OverviewPage(props: { session: SignedInView; data: OverviewData }) {
  const { counts, outbox, daily, page } = props.data;
  const installs = daily.days.reduce((n, d) => n + d.installs, 0);
  const removals = daily.days.reduce((n, d) => n + d.removals, 0);
  const running = outbox.running ?? 0;
  const dead = outbox.dead ?? 0;
  return (
    <Layout title="Overview" nav="overview" session={props.session}>
      <div class="page-head">
        <div>
          <h1>Overview</h1>
          <p>Who has the app installed, and what changed in the last {daily.days.length} days.</p>
        </div>
      </div>
      <h2 class="visually-hidden">At a glance</h2>
      <ul class="stats">
        <Stat id="active" label="Active" value={counts.active} href="/dashboard/installations?status=active" />
        <Stat id="removed" label="Removed" value={counts.removed} href="/dashboard/installations?status=removed" />
        <Stat id="installs-30d" label={`Installs, ${daily.days.length} d`} value={installs} note={`since ${daily.from}`} />
        <Stat id="removals-30d" label={`Removals, ${daily.days.length} d`} value={removals} note={`since ${daily.from}`} />
        <Stat
          id="outbox-pending"
          label="Outbox pending"
          value={outbox.pending ?? 0}
          note={running > 0 ? `${running} running now` : 'waiting to be sent'}
        />
        <Stat
          id="outbox-dead"
          label="Outbox dead"
          value={dead}
          bad={dead > 0}
          note={dead > 0 ? 'gave up; needs a retry' : 'none gave up'}
        />
      </ul>
      <section class="panel" aria-label="Daily installs and removals">
        <DailyChart days={daily.days} id="daily" />
      </section>
      <section class="panel" aria-labelledby="latest-heading">
        <div class="panel-head">
          <h2 id="latest-heading">Installations</h2>
          <p>
            Newest first · <a href="/dashboard/installations">Filter and sort</a>
          </p>
        </div>
        <SearchBox id="overview-search" />
        <div class="section">
          <InstallationsTable items={page.items} caption="Installations, newest first" />
        </div>
        <Pager href={props.data.nextHref} />
      </section>
    </Layout>
  );
}
