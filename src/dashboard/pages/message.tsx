/** @jsxImportSource hono/jsx */
import { BarePage, Layout, type SignedInView } from '../layout.tsx';

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
