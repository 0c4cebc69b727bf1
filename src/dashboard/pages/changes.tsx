/** @jsxImportSource hono/jsx */
import type { Change } from '../../changes/serialize.ts';
import type { PushEndpointStatus } from '../../outbox/push.ts';
import { dash } from '../facts.tsx';
import { InputField, SubmitButton } from '../form-fields.tsx';
import { Badge, installationPath, Plan, Time } from '../format.tsx';
import { Pager } from '../installations-table.tsx';
import { Layout, type SignedInView } from '../layout.tsx';
import { TablePanel } from '../table-panel.tsx';

export interface ChangesData {
  /** The instance filter as typed (echoed into the form). */
  instance: string;
  items: Change[];
  /** Older changes (the same filter), or null at the first change. */
  olderHref: string | null;
  newestHref: string | null;
  endpoints: PushEndpointStatus[];
}

/** A change type in a word, with the badge colour of what it means. */
const CHANGE_BADGES: Record<string, [style: string, label: string]> = {
  'installation.installed': ['active', 'installed'],
  'installation.removed': ['dead', 'removed'],
  'installation.plan_changed': ['paid', 'plan changed'],
  'installation.site_updated': ['pending', 'site updated'],
  'installation.configured': ['done', 'configured'],
};

export function ChangeBadge(props: { type: string }) {
  const [style, label] = CHANGE_BADGES[props.type] ?? ['none', props.type];
  return <Badge value={style} label={label} />;
}

/** The feed as GET /v1/changes serves it, newest first here, filterable by instance; and where it is pushed. */
export function ChangesPage(props: { session: SignedInView; data: ChangesData }) {
  const { instance, items, endpoints } = props.data;
  return (
    <Layout title="Changes" nav="changes" session={props.session}>
      <div class="page-head">
        <div>
          <h1>Changes</h1>
          <p>
            Every visible change of an installation, newest first: what <span class="mono">GET /v1/changes</span> serves in commit order and
            what is pushed to the app's services. Times are UTC.
          </p>
        </div>
      </div>
      <PushEndpoints endpoints={endpoints} />
      <section class="panel" aria-label="Filter changes">
        <form method="get" action="/dashboard/changes" role="search" class="filters">
          <InputField
            id="instance"
            label="Instance id"
            type="text"
            value={instance}
            placeholder="Only this instance's changes"
            maxlength={200}
          />
          <div class="actions">
            <SubmitButton>Apply</SubmitButton>
            {instance ? (
              <a class="button button-quiet" href="/dashboard/changes">
                Reset
              </a>
            ) : null}
          </div>
        </form>
      </section>
      <TablePanel
        id="changes"
        footer={<Pager href={props.data.olderHref} firstHref={props.data.newestHref} />}
        label="Changes"
        caption="Changes, newest first"
        testId="changes"
        title={instance ? 'Changes of this instance' : 'Latest changes'}
        subtitle={<>{items.length} shown</>}
        empty={items.length === 0 ? (instance ? 'No changes for this instance.' : 'No changes recorded yet.') : null}
        head={
          <>
            <th scope="col" class="nowrap">
              Recorded (UTC)
            </th>
            <th scope="col">Change</th>
            <th scope="col">Instance</th>
            <th scope="col">Status after</th>
            <th scope="col">Plan after</th>
            <th scope="col" class="nowrap">
              Occurred (UTC)
            </th>
          </>
        }
      >
        {items.map((c) => (
          <tr data-change={c.id}>
            <th scope="row" class="nowrap">
              <Time iso={c.recordedAt} />
            </th>
            <td data-label="Change">
              <ChangeBadge type={c.type} />
            </td>
            <td data-label="Instance">
              <a class="instance-link mono" href={installationPath(c.instanceId)}>
                {c.instanceId}
              </a>
            </td>
            <td data-label="Status after">
              <Badge value={c.installation.status} />
            </td>
            <td data-label="Plan after">
              <Plan plan={c.installation.plan} />
            </td>
            <td class="nowrap" data-label="Occurred">
              <Time iso={c.occurredAt} />
            </td>
          </tr>
        ))}
      </TablePanel>
    </Layout>
  );
}

/** Each push endpoint's health: last success, failures, what is waiting and what gave up. */
function PushEndpoints(props: { endpoints: PushEndpointStatus[] }) {
  return (
    <TablePanel
      id="push"
      spaced
      label="Push endpoints"
      testId="push-endpoints"
      title="Push endpoints"
      subtitle={
        <>
          REGISTRY_EVENT_ENDPOINTS; dead deliveries are sent again with <span class="mono">wix-registry outbox retry --all-dead</span>
        </>
      }
      empty={props.endpoints.length === 0 ? 'No push endpoints configured: changes are only served by GET /v1/changes.' : null}
      head={
        <>
          <th scope="col">Endpoint</th>
          <th scope="col" class="nowrap">
            Last success (UTC)
          </th>
          <th scope="col">Failures</th>
          <th scope="col">Waiting</th>
          <th scope="col">Dead</th>
          <th scope="col">Last error</th>
        </>
      }
    >
      {props.endpoints.map((e) => (
        <tr data-endpoint={e.endpoint}>
          <th scope="row">
            <span class="mono">{e.endpoint}</span>
            {e.active ? null : (
              <>
                {' '}
                <Badge value="none" label="no longer configured" />
              </>
            )}
          </th>
          <td class="nowrap" data-label="Last success">
            <Time iso={e.lastSuccessAt} empty="never" />
          </td>
          <td class="num" data-label="Failures" title="Failed attempts since the last success (all failed attempts)">
            {e.consecutiveFailures} <span class="muted small">({e.failedAttempts} in all)</span>
          </td>
          <td class="num" data-label="Waiting">
            {e.pending + e.running}
          </td>
          <td class="num" data-label="Dead">
            {e.dead > 0 ? <Badge value="dead" label={String(e.dead)} /> : '0'}
          </td>
          <td data-label="Last error">{e.consecutiveFailures > 0 && e.lastError ? <span class="error-text">{e.lastError}</span> : dash}</td>
        </tr>
      ))}
    </TablePanel>
  );
}
