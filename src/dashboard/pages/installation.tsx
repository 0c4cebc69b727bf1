/** @jsxImportSource hono/jsx */
import { EventHistory, type InstallationDetail } from '../event-history.tsx';
import { dash, Facts, text, UtcTime, yesNo } from '../facts.tsx';
import { Badge, Plan, Site, WixDate } from '../format.tsx';
import { Layout, type SignedInView } from '../layout.tsx';
import { OutboxJobs, type OutboxJob } from '../outbox-jobs.tsx';

/** One installation: its state, plan and site, every event it received, and its outbox jobs. */
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
          <p class="small">
            <a href={`/dashboard/changes?instance=${encodeURIComponent(i.instanceId)}`}>Changes of this instance</a>
          </p>
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
                <UtcTime iso={i.installedAt}>
                  {i.installedAtInferred ? (
                    <>
                      {' '}
                      <Badge value="inferred" label="inferred" />
                    </>
                  ) : null}
                </UtcTime>,
              ],
              ['Removed', <UtcTime iso={i.removedAt} />],
              [
                'Configured',
                <UtcTime iso={i.configuredAt} missing={<span class="muted">Not yet (APP_FINISHED_CONFIGURATION not accepted)</span>} />,
              ],
              ['First seen', <UtcTime iso={i.firstSeenAt} />],
              ['Last event', <UtcTime iso={i.lastEventAt} />],
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
              ['Changed', <UtcTime iso={i.plan.changedAt} />],
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
              ['Synced', <UtcTime iso={i.site.syncedAt} missing={<span class="muted">Not yet</span>} />],
            ]}
          />
        </section>
      </div>

      <EventHistory events={events} />
      <OutboxJobs jobs={props.jobs} />
    </Layout>
  );
}
