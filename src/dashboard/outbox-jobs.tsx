/** @jsxImportSource hono/jsx */
import type { OutboxJob } from '../outbox/model.ts';
import { describeEndpoint } from '../outbox/push.ts';
import { dash } from './facts.tsx';
import { Badge, Time } from './format.tsx';
import { TablePanel } from './table-panel.tsx';

export type { OutboxJob };

const JOB_KINDS: Record<string, string> = {
  finished_configuration: 'APP_FINISHED_CONFIGURATION',
  sync_instance: 'Site sync (Get App Instance)',
  push_change: 'Push of a change',
};

/** What a job is, in words: a push names its endpoint (scheme, host and path only). */
const jobLabel = (j: OutboxJob) => `${JOB_KINDS[j.kind] ?? j.kind}${j.endpoint ? ` to ${describeEndpoint(j.endpoint)}` : ''}`;

/** The outbox jobs of one instance, newest first, with their last error. */
export function OutboxJobs(props: { jobs: OutboxJob[] }) {
  return (
    <TablePanel
      id="jobs"
      spaced
      label="Outbox jobs"
      testId="outbox-jobs"
      title="Outbox jobs"
      subtitle="Calls to Wix, and pushes of its changes, made for this instance, newest first"
      empty={props.jobs.length === 0 ? 'No outbox jobs for this instance.' : null}
      head={
        <>
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
        </>
      }
    >
      {props.jobs.map((j) => (
        <tr>
          <th scope="row">
            {jobLabel(j)} <span class="muted small">#{j.id}</span>
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
    </TablePanel>
  );
}
