/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import type { DailyStats } from '../installations/daily-stats.ts';
import type { Installation } from '../installations/serialize.ts';
import type { InstallationQueries } from '../installations/queries.ts';
import type { OutboxJob } from '../outbox/model.ts';
import { DailyChart } from './chart.tsx';
import { Badge, installationPath, Plan, Site, Time, WixDate } from './format.tsx';
import { BarePage, Brand, Layout, type SignedInView } from './layout.tsx';

export type { OutboxJob };
export type InstallationDetail = NonNullable<Awaited<ReturnType<InstallationQueries['get']>>>;
export type InstallationEvent = InstallationDetail['events'][number];

// ---------------------------------------------------------------------------------------------
// Sign-in

export function SignInPage(props: { error?: string | undefined; next?: string | undefined }) {
  return (
    <BarePage title="Sign in">
      <div class="panel">
        <Brand href="/dashboard/sign-in" />
        <h1>Sign in to the dashboard</h1>
        <p class="muted small">Use one of the registry's API keys (REGISTRY_API_KEYS). The browser keeps a signed session for 8 hours, never the key.</p>
        {props.error ? (
          <div class="alert alert-error" role="alert" id="sign-in-error">
            {props.error}
          </div>
        ) : null}
        <form method="post" action="/dashboard/sign-in">
          <div class="field">
            <label for="apiKey">API key</label>
            <input
              id="apiKey"
              name="apiKey"
              type="password"
              required
              autocomplete="current-password"
              spellcheck={false}
              autofocus
              aria-describedby={props.error ? 'sign-in-error' : undefined}
              aria-invalid={props.error ? 'true' : undefined}
            />
          </div>
          {props.next ? <input type="hidden" name="next" value={props.next} /> : null}
          <button class="button" type="submit">
            Sign in
          </button>
        </form>
      </div>
    </BarePage>
  );
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

function Stat(props: { label: string; value: number; href?: string; note?: string; bad?: boolean; id: string }) {
  return (
    <li class={`stat${props.bad ? ' is-bad' : ''}`} data-stat={props.id}>
      <span class="stat-label" id={`${props.id}-label`}>
        {props.label}
      </span>
      <span class="stat-value">{props.href ? <a href={props.href}>{props.value.toLocaleString('en-US')}</a> : props.value.toLocaleString('en-US')}</span>
      {props.note ? <span class="stat-note">{props.note}</span> : null}
    </li>
  );
}

export function InstallationsTable(props: { items: Installation[]; caption: string }) {
  if (props.items.length === 0) return <p class="empty">No installations match.</p>;
  return (
    <div class="table-wrap" role="region" aria-label={props.caption} tabindex={0}>
      <table class="cards">
        <caption class="visually-hidden">{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">Instance</th>
            <th scope="col">Site</th>
            <th scope="col">Status</th>
            <th scope="col">Plan</th>
            <th scope="col" class="nowrap">
              Installed (UTC)
            </th>
            <th scope="col" class="nowrap">
              Removed (UTC)
            </th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((i) => (
            <tr data-instance={i.instanceId}>
              <th scope="row">
                <a class="instance-link mono" href={installationPath(i.instanceId)}>
                  {i.instanceId}
                </a>
              </th>
              <td data-label="Site">
                <Site site={i.site} />
              </td>
              <td data-label="Status">
                <Badge value={i.status} />
              </td>
              <td data-label="Plan">
                <Plan plan={i.plan} />
              </td>
              <td class="nowrap" data-label="Installed">
                <Time iso={i.installedAt} />
                {i.installedAtInferred ? (
                  <span class="muted small" title="No AppInstalled received yet: the first event's time">
                    {' '}
                    (inferred)
                  </span>
                ) : null}
              </td>
              <td class={i.removedAt ? 'nowrap' : 'nowrap is-empty'} data-label="Removed">
                <Time iso={i.removedAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function SearchBox(props: { value?: string | undefined; id: string }) {
  return (
    <form method="get" action="/dashboard/installations" role="search" class="search">
      <label for={props.id} class="visually-hidden">
        Search installations
      </label>
      <input id={props.id} type="search" name="q" value={props.value ?? ''} placeholder="Site name, URL or instance id" maxlength={200} />
      <button class="button" type="submit">
        Search
      </button>
    </form>
  );
}

function NextPage(props: { href: string | null; firstHref?: string | null }) {
  if (!props.href && !props.firstHref) return null;
  return (
    <nav class="pager" aria-label="Pages">
      {props.firstHref ? <a href={props.firstHref}>← First page</a> : <span></span>}
      {props.href ? (
        <a class="button button-quiet" href={props.href} rel="next">
          Next page →
        </a>
      ) : null}
    </nav>
  );
}

// ---------------------------------------------------------------------------------------------
// Overview

export interface OverviewData {
  counts: { active: number; removed: number };
  outbox: Record<string, number>;
  daily: DailyStats;
  page: { items: Installation[]; nextCursor: string | null };
  nextHref: string | null;
}

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
        <Stat id="outbox-pending" label="Outbox pending" value={outbox.pending ?? 0} note={running > 0 ? `${running} running now` : 'waiting to be sent'} />
        <Stat id="outbox-dead" label="Outbox dead" value={dead} bad={dead > 0} note={dead > 0 ? 'gave up; needs a retry' : 'none gave up'} />
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
        <NextPage href={props.data.nextHref} />
      </section>
    </Layout>
  );
}

// ---------------------------------------------------------------------------------------------
// Installations

export interface InstallationsData {
  /** The raw query parameters, echoed into the form (so a bad one can be corrected). */
  values: Record<string, string>;
  error: string | null;
  page: { items: Installation[]; nextCursor: string | null } | null;
  nextHref: string | null;
  firstHref: string | null;
}

function Select(props: { id: string; label: string; value: string | undefined; options: [string, string][] }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.id}>
        {props.options.map(([value, label]) => (
          <option value={value} selected={(props.value ?? '') === value}>
            {label}
          </option>
        ))}
      </select>
    </div>
  );
}

export function InstallationsPage(props: { session: SignedInView; data: InstallationsData }) {
  const { values, error, page } = props.data;
  const filtered = ['q', 'status', 'plan', 'installedFrom', 'installedTo', 'removedFrom', 'removedTo'].some((k) => values[k]);
  return (
    <Layout title="Installations" nav="installations" session={props.session}>
      <div class="page-head">
        <div>
          <h1>Installations</h1>
          <p>Search by site name, site URL or instance id; filter; sort. Times are UTC.</p>
        </div>
      </div>
      <section class="panel" aria-label="Search and filters">
        <form method="get" action="/dashboard/installations" role="search" class="filters">
          <div class="field field-q">
            <label for="q">Search</label>
            <input id="q" type="search" name="q" value={values.q ?? ''} placeholder="Site name, URL or instance id" maxlength={200} />
          </div>
          <Select
            id="status"
            label="Status"
            value={values.status}
            options={[
              ['', 'Any'],
              ['active', 'Active'],
              ['removed', 'Removed'],
            ]}
          />
          <div class="field">
            <label for="plan">Plan</label>
            <input
              id="plan"
              type="text"
              name="plan"
              value={values.plan ?? ''}
              placeholder="paid, free or a product id"
              aria-describedby="plan-hint"
              maxlength={200}
            />
            <span class="visually-hidden" id="plan-hint">
              paid, free, or a vendor product id such as premium
            </span>
          </div>
          <div class="field">
            <label for="installedFrom">Installed on or after</label>
            <input id="installedFrom" type="date" name="installedFrom" value={values.installedFrom ?? ''} />
          </div>
          <div class="field">
            <label for="installedTo">Installed before</label>
            <input id="installedTo" type="date" name="installedTo" value={values.installedTo ?? ''} />
          </div>
          <Select
            id="sort"
            label="Sort by"
            value={values.sort}
            options={[
              ['', 'Install time'],
              ['removedAt', 'Removal time'],
              ['updatedAt', 'Last change'],
            ]}
          />
          <Select
            id="order"
            label="Order"
            value={values.order}
            options={[
              ['', 'Newest first'],
              ['asc', 'Oldest first'],
            ]}
          />
          {/* Filters the form does not show (set by a link) are kept, not silently dropped. */}
          {(['removedFrom', 'removedTo', 'limit'] as const).map((k) => (values[k] ? <input type="hidden" name={k} value={values[k]} /> : null))}
          <div class="actions">
            <button class="button" type="submit">
              Apply
            </button>
            {filtered || values.sort || values.order ? (
              <a class="button button-quiet" href="/dashboard/installations">
                Reset
              </a>
            ) : null}
          </div>
        </form>
      </section>
      {error ? (
        <div class="alert alert-error" role="alert">
          <strong>These parameters cannot be used.</strong>
          <p>{error}</p>
        </div>
      ) : null}
      {page ? (
        <section class="panel" aria-labelledby="results-heading">
          <div class="panel-head">
            <h2 id="results-heading">{filtered ? 'Matching installations' : 'All installations'}</h2>
            <p>
              {page.items.length} shown
              {page.nextCursor ? ', more on the next page' : ''}
            </p>
          </div>
          <InstallationsTable items={page.items} caption="Installations" />
          <NextPage href={props.data.nextHref} firstHref={props.data.firstHref} />
        </section>
      ) : null}
    </Layout>
  );
}

// ---------------------------------------------------------------------------------------------
// One installation

const JOB_KINDS: Record<string, string> = {
  finished_configuration: 'APP_FINISHED_CONFIGURATION',
  sync_instance: 'Site sync (Get App Instance)',
};

function Facts(props: { rows: [string, Child][] }) {
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

const dash = <span class="muted">—</span>;
const text = (value: string | null | undefined) => (value ? value : dash);
const yesNo = (value: boolean | null | undefined) => (value === true ? 'Yes' : value === false ? 'No' : dash);

function EventData(props: { event: InstallationEvent }) {
  const data = props.event.data;
  if (!data || Object.keys(data).length === 0) return <span class="muted">—</span>;
  return (
    <details>
      <summary>data</summary>
      <pre>{JSON.stringify(data, null, 2)}</pre>
    </details>
  );
}

export function InstallationPage(props: { session: SignedInView; detail: InstallationDetail; jobs: OutboxJob[] }) {
  const { installation: i, events } = props.detail;
  const title = i.site.name ?? i.instanceId;
  return (
    <Layout title={title} nav="installations" session={props.session}>
      <p class="small">
        <a href="/dashboard/installations">← Installations</a>
      </p>
      <div class="page-head">
        <div>
          <h1>
            {title} <Badge value={i.status} />
          </h1>
          <p class="mono">{i.instanceId}</p>
        </div>
      </div>
      <div class="details-grid">
        <section class="panel" aria-labelledby="installation-heading">
          <h2 id="installation-heading" class="panel-head">
            Installation
          </h2>
          <Facts
            rows={[
              ['Status', <Badge value={i.status} />],
              [
                'Installed',
                <span>
                  <Time iso={i.installedAt} /> UTC
                  {i.installedAtInferred ? (
                    <>
                      {' '}
                      <Badge value="inferred" label="inferred" />
                    </>
                  ) : null}
                </span>,
              ],
              [
                'Removed',
                i.removedAt ? (
                  <span>
                    <Time iso={i.removedAt} /> UTC
                  </span>
                ) : (
                  dash
                ),
              ],
              [
                'Configured',
                i.configuredAt ? (
                  <span>
                    <Time iso={i.configuredAt} /> UTC
                  </span>
                ) : (
                  <span class="muted">Not yet (APP_FINISHED_CONFIGURATION not accepted)</span>
                ),
              ],
              [
                'First seen',
                <span>
                  <Time iso={i.firstSeenAt} /> UTC
                </span>,
              ],
              [
                'Last event',
                <span>
                  <Time iso={i.lastEventAt} /> UTC
                </span>,
              ],
              ['App id', <span class="mono">{i.appId}</span>],
              ['Copied from', i.originInstanceId ? <span class="mono">{i.originInstanceId}</span> : dash],
            ]}
          />
        </section>
        <section class="panel" aria-labelledby="plan-heading">
          <h2 id="plan-heading" class="panel-head">
            Plan
          </h2>
          <Facts
            rows={[
              ['Plan', <Plan plan={i.plan} />],
              ['Product', text(i.plan.vendorProductId)],
              ['Cycle', text(i.plan.cycle)],
              ['Free', yesNo(i.plan.isFree)],
              ['Auto-renewing', yesNo(i.plan.autoRenewing)],
              ['Expires', <WixDate value={i.plan.expiresOn} />],
              [
                'Changed',
                i.plan.changedAt ? (
                  <span>
                    <Time iso={i.plan.changedAt} /> UTC
                  </span>
                ) : (
                  dash
                ),
              ],
            ]}
          />
        </section>
        <section class="panel" aria-labelledby="site-heading">
          <h2 id="site-heading" class="panel-head">
            Site
          </h2>
          <Facts
            rows={[
              ['Site', <Site site={i.site} />],
              ['Site id', i.site.siteId ? <span class="mono">{i.site.siteId}</span> : dash],
              ['Account id', i.site.accountId ? <span class="mono">{i.site.accountId}</span> : dash],
              ['App version', text(i.appVersion)],
              [
                'Synced',
                i.site.syncedAt ? (
                  <span>
                    <Time iso={i.site.syncedAt} /> UTC
                  </span>
                ) : (
                  <span class="muted">Not yet</span>
                ),
              ],
            ]}
          />
        </section>
      </div>

      <section class="panel section" aria-labelledby="history-heading">
        <div class="panel-head">
          <h2 id="history-heading">Event history</h2>
          <p>Oldest first, by the time Wix issued each event</p>
        </div>
        {events.length === 0 ? (
          <p class="empty">No events stored.</p>
        ) : (
          <div class="table-wrap" role="region" aria-label="Event history" tabindex={0}>
            <table class="cards" data-testid="history">
              <caption class="visually-hidden">Event history</caption>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col" class="nowrap">
                    Issued (UTC)
                  </th>
                  <th scope="col" class="nowrap">
                    Received (UTC)
                  </th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Data</th>
                </tr>
              </thead>
              <tbody>
                {events.map((e) => (
                  <tr>
                    <th scope="row" class="mono">
                      {e.eventType}
                    </th>
                    <td class="nowrap" data-label="Issued">
                      <Time iso={e.issuedAt} />
                    </td>
                    <td class="nowrap" data-label="Received">
                      <Time iso={e.receivedAt} />
                    </td>
                    <td data-label="Outcome">
                      <Badge value={e.outcome} />
                    </td>
                    <td data-label="Data">
                      <EventData event={e} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section class="panel section" aria-labelledby="jobs-heading">
        <div class="panel-head">
          <h2 id="jobs-heading">Outbox jobs</h2>
          <p>Calls to Wix made for this instance, newest first</p>
        </div>
        {props.jobs.length === 0 ? (
          <p class="empty">No outbox jobs for this instance.</p>
        ) : (
          <div class="table-wrap" role="region" aria-label="Outbox jobs" tabindex={0}>
            <table class="cards" data-testid="outbox-jobs">
              <caption class="visually-hidden">Outbox jobs</caption>
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Last error</th>
                  <th scope="col" class="nowrap">
                    Created (UTC)
                  </th>
                  <th scope="col" class="nowrap">
                    Next try / done (UTC)
                  </th>
                </tr>
              </thead>
              <tbody>
                {props.jobs.map((j) => (
                  <tr>
                    <th scope="row">
                      {JOB_KINDS[j.kind] ?? j.kind} <span class="muted small">#{j.id}</span>
                    </th>
                    <td data-label="Status">
                      <Badge value={j.status} />
                    </td>
                    <td class="num" data-label="Attempts">
                      {j.attempts}
                    </td>
                    <td data-label="Last error">{j.lastError ? <span class="error-text">{j.lastError}</span> : dash}</td>
                    <td class="nowrap" data-label="Created">
                      <Time iso={new Date(j.createdAt).toISOString()} />
                    </td>
                    <td class="nowrap" data-label="Next try / done">
                      {j.status === 'done' && j.completedAt ? (
                        <Time iso={new Date(j.completedAt).toISOString()} />
                      ) : j.status === 'pending' ? (
                        <Time iso={new Date(j.runAfter).toISOString()} />
                      ) : (
                        dash
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </Layout>
  );
}

// ---------------------------------------------------------------------------------------------
// Errors

/** A short page for 400/403/404/5xx; with the top bar when signed in. */
export function MessagePage(props: { session: SignedInView | null; title: string; message: string; requestId?: string | undefined }) {
  const body = (
    <div class="panel">
      <h1>{props.title}</h1>
      <p>{props.message}</p>
      {props.requestId ? (
        <p class="muted small">
          Request id: <span class="mono">{props.requestId}</span>
        </p>
      ) : null}
      <p>
        <a href="/dashboard">Back to the overview</a>
      </p>
    </div>
  );
  return props.session ? (
    <Layout title={props.title} nav={null} session={props.session}>
      {body}
    </Layout>
  ) : (
    <BarePage title={props.title}>{body}</BarePage>
  );
}
