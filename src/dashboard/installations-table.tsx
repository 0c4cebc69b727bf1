/** @jsxImportSource hono/jsx */
import type { Installation } from '../installations/serialize.ts';
import { Badge, installationPath, Plan, Site, Time } from './format.tsx';

/** Installations as a table (cards on a phone), each row linking to its installation's page. */
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

/** Paging by cursor: "Next page" while there is one, and a way back to the first page once past it. */
export function Pager(props: { href: string | null; firstHref?: string | null }) {
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
