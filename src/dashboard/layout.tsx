/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import { raw } from 'hono/html';
import { DASHBOARD_CSS } from './styles.ts';

const FAVICON =
  "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'><rect width='32' height='32' rx='8' fill='%232f6fe4'/><path d='M8 20l4-8 4 6 3-4 5 6' stroke='white' stroke-width='3' fill='none' stroke-linecap='round' stroke-linejoin='round'/></svg>";

export interface SignedInView {
  /** The key's fingerprint, shown so a team with several keys knows which one is in use. */
  keyId: string;
  csrfToken: string;
}

export type NavItem = 'overview' | 'installations' | 'changes';

function Head(props: { title: string }) {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="robots" content="noindex, nofollow" />
      <meta name="referrer" content="no-referrer" />
      <title>{`${props.title} · wix-registry`}</title>
      <link rel="icon" href={FAVICON} />
      <style>{raw(DASHBOARD_CSS)}</style>
    </head>
  );
}

export function Brand(props: { href?: string }) {
  return (
    <a class="brand" href={props.href ?? '/dashboard'}>
      <span class="brand-mark" aria-hidden="true">
        W
      </span>
      <span>wix-registry</span>
    </a>
  );
}

/** A page for a signed-in developer: top bar with navigation and sign-out, then the content. */
export function Layout(props: { title: string; nav: NavItem | null; session: SignedInView; children: Child }) {
  const link = (item: NavItem, href: string, label: string) => (
    <a href={href} aria-current={props.nav === item ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <html lang="en">
      <Head title={props.title} />
      <body>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <header class="topbar">
          <div class="topbar-inner">
            <Brand />
            <nav class="nav" aria-label="Main">
              {link('overview', '/dashboard', 'Overview')}
              {link('installations', '/dashboard/installations', 'Installations')}
              {link('changes', '/dashboard/changes', 'Changes')}
            </nav>
            <div class="session">
              <span class="session-key" title="The fingerprint of the API key this session was opened with">
                {props.session.keyId}
              </span>
              <form method="post" action="/dashboard/sign-out">
                <input type="hidden" name="csrf" value={props.session.csrfToken} />
                <button class="button button-quiet button-small" type="submit">
                  Sign out
                </button>
              </form>
            </div>
          </div>
        </header>
        <main id="main" tabindex={-1}>
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** A page without the top bar: sign-in, and errors shown to someone not signed in. */
export function BarePage(props: { title: string; children: Child }) {
  return (
    <html lang="en">
      <Head title={props.title} />
      <body>
        <main class="sign-in" id="main">
          {props.children}
        </main>
      </body>
    </html>
  );
}
