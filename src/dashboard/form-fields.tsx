/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';

/**
 * The dashboard's form parts. Every field is a label tied to its control by id (screen readers
 * and `getByLabel` rely on it), and a filter field's name is its id, so the query string and the
 * form agree on one set of names.
 */

/** What every search box says it searches. */
const SEARCH_PLACEHOLDER = 'Site name, URL or instance id';
/** The list API's own bound on `q`. */
const SEARCH_MAX_LENGTH = 200;

/** A labelled field: the label above its control. */
export function Field(props: { id: string; label: string; class?: string; children: Child }) {
  return (
    <div class={props.class ? `field ${props.class}` : 'field'}>
      <label for={props.id}>{props.label}</label>
      {props.children}
    </div>
  );
}

/** A text-like input (`text`, `search`, `date`) named after its id, with an optional hint for screen readers. */
export function InputField(props: {
  id: string;
  label: string;
  type: 'text' | 'search' | 'date';
  value: string | undefined;
  placeholder?: string;
  maxlength?: number;
  hint?: string;
  class?: string;
}) {
  const hintId = props.hint ? `${props.id}-hint` : undefined;
  return (
    <Field id={props.id} label={props.label} class={props.class}>
      <input
        id={props.id}
        type={props.type}
        name={props.id}
        value={props.value ?? ''}
        placeholder={props.placeholder}
        aria-describedby={hintId}
        maxlength={props.maxlength}
      />
      {props.hint ? (
        <span class="visually-hidden" id={hintId}>
          {props.hint}
        </span>
      ) : null}
    </Field>
  );
}

/** The search field of the installations filters (`q`). */
export function SearchField(props: { value: string | undefined }) {
  return (
    <InputField
      id="q"
      label="Search"
      type="search"
      value={props.value}
      placeholder={SEARCH_PLACEHOLDER}
      maxlength={SEARCH_MAX_LENGTH}
      class="field-q"
    />
  );
}

/** A select named after its id; the option whose value is `value` (or the empty one) is selected. */
export function SelectField(props: { id: string; label: string; value: string | undefined; options: [value: string, label: string][] }) {
  return (
    <Field id={props.id} label={props.label}>
      <select id={props.id} name={props.id}>
        {props.options.map(([value, label]) => (
          <option value={value} selected={(props.value ?? '') === value}>
            {label}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** Parameters the form does not show (set by a link), carried along rather than silently dropped. */
export function HiddenFields(props: { names: readonly string[]; values: Record<string, string> }) {
  return <>{props.names.map((name) => (props.values[name] ? <input type="hidden" name={name} value={props.values[name]} /> : null))}</>;
}

export function SubmitButton(props: { children: Child }) {
  return (
    <button class="button" type="submit">
      {props.children}
    </button>
  );
}

/** A one-field search form that opens the installations page: a visually hidden label, the box and its button. */
export function SearchBox(props: { id: string; value?: string | undefined }) {
  return (
    <form method="get" action="/dashboard/installations" role="search" class="search">
      <label for={props.id} class="visually-hidden">
        Search installations
      </label>
      <input
        id={props.id}
        type="search"
        name="q"
        value={props.value ?? ''}
        placeholder={SEARCH_PLACEHOLDER}
        maxlength={SEARCH_MAX_LENGTH}
      />
      <SubmitButton>Search</SubmitButton>
    </form>
  );
}
