/** @jsxImportSource hono/jsx */
import { Field, SubmitButton } from '../form-fields.tsx';
import { BarePage, Brand } from '../layout.tsx';

/** The sign-in form: one of the registry's API keys; `next` is where to go afterwards (already checked). */
export function SignInPage(props: { error?: string | undefined; next?: string | undefined }) {
  return (
    <BarePage title="Sign in">
      <div class="panel">
        <Brand href="/dashboard/sign-in" />
        <h1>Sign in to the dashboard</h1>
        <p class="muted small">
          Use one of the registry's API keys (REGISTRY_API_KEYS). The browser keeps a signed session for 8 hours, never the key.
        </p>
        {props.error ? (
          <div class="alert alert-error" role="alert" id="sign-in-error">
            {props.error}
          </div>
        ) : null}
        <form method="post" action="/dashboard/sign-in">
          <Field id="apiKey" label="API key">
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
          </Field>
          {props.next ? <input type="hidden" name="next" value={props.next} /> : null}
          <SubmitButton>Sign in</SubmitButton>
        </form>
      </div>
    </BarePage>
  );
}
