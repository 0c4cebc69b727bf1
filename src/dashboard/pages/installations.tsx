/** @jsxImportSource hono/jsx */
import type { Installation } from '../../installations/serialize.ts';
import { HiddenFields, InputField, SearchField, SelectField, SubmitButton } from '../form-fields.tsx';
import { InstallationsTable, Pager } from '../installations-table.tsx';
import { Layout, type SignedInView } from '../layout.tsx';

export interface InstallationsData {
  /** The raw query parameters, echoed into the form (so a bad one can be corrected). */
  values: Record<string, string>;
  error: string | null;
  page: { items: Installation[]; nextCursor: string | null } | null;
  nextHref: string | null;
  firstHref: string | null;
}

/** The parameters that narrow the list (sort, order and paging only arrange it). */
const FILTERS = ['q', 'status', 'plan', 'installedFrom', 'installedTo', 'removedFrom', 'removedTo'];
/** Set by links (e.g. a removal window), not shown as fields: kept when the form is sent. */
const CARRIED_PARAMS = ['removedFrom', 'removedTo', 'limit'];

/** Search, filters and sort as a GET form over the list, then one page of results. */
export function InstallationsPage(props: { session: SignedInView; data: InstallationsData }) {
  const { values, error, page } = props.data;
  const filtered = FILTERS.some((k) => values[k]);
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
          <SearchField value={values.q} />
          <SelectField
            id="status"
            label="Status"
            value={values.status}
            options={[
              ['', 'Any'],
              ['active', 'Active'],
              ['removed', 'Removed'],
            ]}
          />
          <InputField
            id="plan"
            label="Plan"
            type="text"
            value={values.plan}
            placeholder="paid, free or a product id"
            hint="paid, free, or a vendor product id such as premium"
            maxlength={200}
          />
          <InputField id="installedFrom" label="Installed on or after" type="date" value={values.installedFrom} />
          <InputField id="installedTo" label="Installed before" type="date" value={values.installedTo} />
          <SelectField
            id="sort"
            label="Sort by"
            value={values.sort}
            options={[
              ['', 'Install time'],
              ['removedAt', 'Removal time'],
              ['updatedAt', 'Last change'],
            ]}
          />
          <SelectField
            id="order"
            label="Order"
            value={values.order}
            options={[
              ['', 'Newest first'],
              ['asc', 'Oldest first'],
            ]}
          />
          <HiddenFields names={CARRIED_PARAMS} values={values} />
          <div class="actions">
            <SubmitButton>Apply</SubmitButton>
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
          <Pager href={props.data.nextHref} firstHref={props.data.firstHref} />
        </section>
      ) : null}
    </Layout>
  );
}
