/** @jsxImportSource hono/jsx */
import type { InstallationQueries } from '../installations/queries.ts';
import { Badge, Time } from './format.tsx';
import { TablePanel } from './table-panel.tsx';

export type InstallationDetail = NonNullable<Awaited<ReturnType<InstallationQueries['get']>>>;
export type InstallationEvent = InstallationDetail['events'][number];

/** An event's data, folded away (it can be long); a dash when there is none. */
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

/** Every stored event of an installation, oldest first by `iat`, with what it did. */
export function EventHistory(props: { events: InstallationEvent[] }) {
  return (
    <TablePanel
      id="history"
      spaced
      label="Event history"
      testId="history"
      title="Event history"
      subtitle="Oldest first, by the time Wix issued each event"
      empty={props.events.length === 0 ? 'No events stored.' : null}
      head={
        <>
          <th scope="col">Event</th>
          <th scope="col" class="nowrap">
            Issued (UTC)
          </th>
          <th scope="col" class="nowrap">
            Received (UTC)
          </th>
          <th scope="col">Outcome</th>
          <th scope="col">Data</th>
        </>
      }
    >
      {props.events.map((e) => (
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
    </TablePanel>
  );
}
