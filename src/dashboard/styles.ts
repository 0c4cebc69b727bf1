import { createHash } from 'node:crypto';

/**
 * The dashboard's whole stylesheet, inlined in every page: no static-file route, no build step.
 * The CSP allows exactly this text by its hash (no 'unsafe-inline'), so style="" attributes and
 * any injected <style> are refused by the browser.
 *
 * Colours are picked for WCAG AA contrast (4.5:1 for text) in both the light and dark schemes.
 */
export const DASHBOARD_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f5f6f8; --panel: #ffffff; --text: #18202c; --muted: #566070; --border: #dde1e7; --subtle: #f0f2f5;
  --accent: #1f55c9; --accent-text: #ffffff; --focus: #1f55c9;
  --installs: #2f6fe4; --removals: #e0702b;
  --ok-bg: #e3f4e8; --ok: #17672f; --warn-bg: #fff1d6; --warn: #7a4a00; --bad-bg: #fde6e6; --bad: #a31b1b;
  --info-bg: #e5eefc; --info: #1d4fae; --none-bg: #eceef2; --none: #474f5c;
  --shadow: 0 1px 2px rgba(16, 24, 40, .06), 0 1px 3px rgba(16, 24, 40, .08);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f141b; --panel: #171e28; --text: #e6eaf0; --muted: #a3adbb; --border: #2b3442; --subtle: #1d2532;
    --accent: #7aa7ff; --accent-text: #0b1220; --focus: #7aa7ff;
    --installs: #5b8ff5; --removals: #f0924f;
    --ok-bg: #143321; --ok: #8fdca8; --warn-bg: #3a2a0c; --warn: #f5c46b; --bad-bg: #3d1515; --bad: #ffaaaa;
    --info-bg: #16284a; --info: #a9c4ff; --none-bg: #252d3a; --none: #c3cad5;
    --shadow: none;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--text); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
a { color: var(--accent); text-underline-offset: 2px; }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 4px; }
h1, h2, h3 { line-height: 1.25; margin: 0; }
h1 { font-size: 1.5rem; }
h2 { font-size: 1.125rem; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .875em; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.skip-link { position: absolute; left: 1rem; top: -3rem; background: var(--panel); padding: .5rem .75rem; border-radius: 6px; z-index: 10; }
.skip-link:focus { top: .5rem; }

.topbar { background: var(--panel); border-bottom: 1px solid var(--border); }
.topbar-inner { max-width: 1200px; margin: 0 auto; padding: .625rem 1.25rem; display: flex; align-items: center; gap: 1.25rem; flex-wrap: wrap; }
.brand { display: flex; align-items: center; gap: .5rem; font-weight: 700; color: var(--text); text-decoration: none; }
.brand-mark { width: 26px; height: 26px; border-radius: 7px; background: linear-gradient(135deg, var(--installs), #7b4de0); display: grid; place-items: center; color: #fff; font-size: .8rem; }
.nav { display: flex; gap: .25rem; flex: 1; }
.nav a { color: var(--muted); text-decoration: none; padding: .375rem .625rem; border-radius: 6px; font-weight: 500; }
.nav a:hover { background: var(--subtle); color: var(--text); }
.nav a[aria-current="page"] { color: var(--text); background: var(--subtle); }
.session { display: flex; align-items: center; gap: .75rem; color: var(--muted); font-size: .8125rem; }
.session form { margin: 0; }

main { max-width: 1200px; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
.page-head { display: flex; align-items: flex-end; justify-content: space-between; gap: 1rem; flex-wrap: wrap; margin-bottom: 1.25rem; }
.page-head p { margin: .25rem 0 0; color: var(--muted); }
.panel { background: var(--panel); border: 1px solid var(--border); border-radius: 12px; box-shadow: var(--shadow); padding: 1.125rem 1.25rem; margin-bottom: 1.25rem; }
.panel-head { display: flex; align-items: baseline; justify-content: space-between; gap: .75rem; flex-wrap: wrap; margin-bottom: .875rem; }
.panel-head p { margin: 0; color: var(--muted); font-size: .875rem; }
.muted { color: var(--muted); }
.small { font-size: .8125rem; }

.stats { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: .875rem; margin-bottom: 1.25rem; padding: 0; list-style: none; }
.stat { background: var(--panel); border: 1px solid var(--border); border-radius: 12px; box-shadow: var(--shadow); padding: .875rem 1rem; display: flex; flex-direction: column; gap: .125rem; min-width: 0; }
.stat-label { color: var(--muted); font-size: .8125rem; font-weight: 500; }
.stat-value { font-size: 1.75rem; font-weight: 700; font-variant-numeric: tabular-nums; line-height: 1.2; }
.stat-value a { color: inherit; text-decoration: none; }
.stat-value a:hover { text-decoration: underline; }
.stat-note { color: var(--muted); font-size: .75rem; }
.stat.is-bad .stat-value { color: var(--bad); }
.dot { display: inline-block; width: .625rem; height: .625rem; border-radius: 3px; margin-right: .375rem; vertical-align: baseline; }
.dot-installs { background: var(--installs); }
.dot-removals { background: var(--removals); }

.chart-legend { display: flex; gap: 1rem; font-size: .875rem; color: var(--muted); margin: 0; padding: 0; list-style: none; }
.chart-legend strong { color: var(--text); }
.chart-figure { margin: 0; }
.chart { position: relative; padding-left: 2.25rem; }
.chart svg { display: block; width: 100%; height: 190px; overflow: visible; }
.chart .bar-installs { fill: var(--installs); }
.chart .bar-removals { fill: var(--removals); }
.chart .slot:hover rect { opacity: .8; }
.chart .axis { stroke: var(--border); stroke-width: 1; }
.chart .grid { stroke: var(--border); stroke-width: 1; stroke-dasharray: 3 3; }
.chart-y { position: absolute; left: 0; font-size: .75rem; color: var(--muted); font-variant-numeric: tabular-nums; }
.chart-y-top { top: 0; }
.chart-y-bottom { bottom: 0; }
.chart-x { display: flex; justify-content: space-between; padding-left: 2.25rem; font-size: .75rem; color: var(--muted); margin-top: .375rem; }
.chart-empty { text-align: center; color: var(--muted); padding: 2rem 0; margin: 0; }

.search { display: flex; gap: .5rem; flex-wrap: wrap; }
.search input[type="search"] { flex: 1 1 16rem; }
.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .75rem 1rem; align-items: end; }
.filters .field-q { grid-column: 1 / -1; }
.field { display: flex; flex-direction: column; gap: .25rem; min-width: 0; }
.field label, .label { font-size: .8125rem; font-weight: 600; }
.hint { font-size: .75rem; color: var(--muted); }
input, select, button { font: inherit; color: inherit; }
input[type="search"], input[type="text"], input[type="password"], input[type="date"], select {
  width: 100%; min-height: 2.5rem; padding: .4375rem .625rem; border: 1px solid #8a93a3; border-radius: 8px; background: var(--panel);
}
input::placeholder { color: var(--muted); opacity: 1; }
.actions { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
.button { display: inline-flex; align-items: center; justify-content: center; gap: .375rem; min-height: 2.5rem; padding: .4375rem 1rem; border-radius: 8px; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-text); font-weight: 600; text-decoration: none; cursor: pointer; white-space: nowrap; }
.button:hover { filter: brightness(1.08); }
.button-quiet { background: transparent; color: var(--accent); border-color: var(--border); }
.button-small { min-height: 2rem; padding: .25rem .75rem; font-size: .8125rem; }

.table-wrap { overflow-x: auto; margin: 0 -1.25rem; padding: 0 1.25rem; }
table { width: 100%; border-collapse: collapse; font-size: .875rem; }
caption { text-align: left; }
th, td { text-align: left; padding: .625rem .75rem; border-bottom: 1px solid var(--border); vertical-align: top; }
th:first-child, td:first-child { padding-left: 0; }
th:last-child, td:last-child { padding-right: 0; }
thead th { font-size: .75rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; white-space: nowrap; }
tbody tr:last-child th, tbody tr:last-child td { border-bottom: 0; }
tbody tr:hover { background: var(--subtle); }
td.nowrap, th.nowrap { white-space: nowrap; }
td.num { font-variant-numeric: tabular-nums; }
.instance-link { font-weight: 600; word-break: break-all; }
.site-name { font-weight: 500; }
.site-url { display: block; color: var(--muted); font-size: .8125rem; overflow-wrap: anywhere; }
.empty { color: var(--muted); text-align: center; padding: 1.5rem 0; margin: 0; }
.pager { display: flex; justify-content: space-between; align-items: center; gap: .75rem; margin-top: 1rem; flex-wrap: wrap; }

.badge { display: inline-block; padding: .0625rem .5rem; border-radius: 999px; font-size: .75rem; font-weight: 600; white-space: nowrap; background: var(--none-bg); color: var(--none); }
.badge-active, .badge-applied, .badge-done, .badge-paid { background: var(--ok-bg); color: var(--ok); }
.badge-stale, .badge-inferred { background: var(--warn-bg); color: var(--warn); }
.badge-dead { background: var(--bad-bg); color: var(--bad); }
.badge-pending, .badge-running { background: var(--info-bg); color: var(--info); }

.alert { border-radius: 10px; padding: .75rem 1rem; margin-bottom: 1rem; border: 1px solid; }
.alert-error { background: var(--bad-bg); color: var(--bad); border-color: currentColor; }
.alert p { margin: .25rem 0 0; }

.details-grid { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 1.25rem; }
.details-grid .panel { margin-bottom: 0; }
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .5rem 1rem; margin: 0; font-size: .875rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.section { margin-top: 1.25rem; }
.error-text { color: var(--bad); overflow-wrap: anywhere; }
details summary { cursor: pointer; color: var(--accent); font-size: .8125rem; }
details pre { margin: .375rem 0 0; padding: .5rem .625rem; background: var(--subtle); border-radius: 6px; font-size: .75rem; max-width: 36rem; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }

.sign-in { min-height: 100vh; display: grid; place-items: center; padding: 1.5rem; }
.sign-in .panel { width: 100%; max-width: 24rem; padding: 1.75rem; }
.sign-in .brand { margin-bottom: 1.25rem; }
.sign-in h1 { font-size: 1.25rem; margin-bottom: .375rem; }
.sign-in form { display: flex; flex-direction: column; gap: 1rem; margin-top: 1.25rem; }

@media (max-width: 1000px) {
  .stats { grid-template-columns: repeat(3, minmax(0, 1fr)); }
  .details-grid { grid-template-columns: 1fr; }
}
@media (max-width: 640px) {
  body { font-size: 14px; }
  .topbar-inner { padding: .5rem 1rem; gap: .5rem 1rem; }
  .nav { order: 3; flex-basis: 100%; margin: 0 -.625rem; }
  .session { margin-left: auto; }
  .session-key { display: none; }
  main { padding: 1rem 1rem 2rem; }
  .panel { padding: 1rem; border-radius: 10px; }
  .table-wrap { margin: 0 -1rem; padding: 0 1rem; }
  .stats { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: .625rem; }
  .stat-value { font-size: 1.5rem; }
  .chart svg { height: 150px; }
  .filters { grid-template-columns: 1fr 1fr; }
  /* Tables become one card per row; each cell says what it is (data-label). */
  .table-wrap:has(> table.cards) { overflow: visible; margin: 0; padding: 0; }
  table.cards thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  table.cards, table.cards tbody { display: block; }
  table.cards tbody { display: grid; gap: .625rem; }
  table.cards tr { display: block; border: 1px solid var(--border); border-radius: 10px; padding: .625rem .875rem; }
  table.cards tbody tr:hover { background: none; }
  table.cards th[scope="row"] { display: block; padding: 0 0 .375rem; border: 0; }
  table.cards td { display: flex; justify-content: space-between; align-items: baseline; gap: 1rem; padding: .1875rem 0; border: 0; text-align: right; white-space: normal; }
  table.cards td::before { content: attr(data-label); flex: none; text-align: left; color: var(--muted); font-size: .75rem; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; }
  table.cards td.is-empty { display: none; }
  table.cards details pre { text-align: left; }
}
`;

/** The CSP source that allows exactly DASHBOARD_CSS. */
export const DASHBOARD_CSS_HASH = `'sha256-${createHash('sha256').update(DASHBOARD_CSS).digest('base64')}'`;
