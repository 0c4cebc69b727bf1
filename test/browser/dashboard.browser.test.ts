import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenLocal } from '../../src/sandbox/fake-wix.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { REPO_ROOT } from '../helpers/process.ts';
import { createTestRegistry, TEST_API_KEY, type TestRegistry } from '../helpers/registry.ts';
import { launchChromium } from '../helpers/browser.ts';

/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core, against the real
 * registry served over HTTP on 127.0.0.1 and seeded through signed webhooks. No skip when the
 * browser is missing: CI installs it (apt-get install chromium), and a missing one fails here.
 */
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
/**
 * The README's picture as this run sees it. Runs never touch the tracked docs/dashboard.png:
 * `npm run docs:screenshot` runs this file and copies this one over it, on purpose.
 */
const README_SCREENSHOT = join(ARTIFACTS, 'dashboard-readme.png');

/** The two browser globals used in page functions (tsconfig has no DOM lib). */
interface BrowserGlobals {
  getComputedStyle(element: unknown): { borderRadius: string };
}

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 1, 15, 30);

/** A stable UUID-shaped instance id per seed, so screenshots do not change from run to run. */
const uuid = (seed: string) => {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

describe('the dashboard in Chromium', () => {
  let wix: RunningFakeWix;
  let t: TestRegistry;
  let server: { url: string; close(): Promise<void> };
  let browser: Browser;
  const installed: string[] = [];
  let planned = '';

  const drain = async () => {
    for (let i = 0; i < 20 && (await t.registry.outbox.worker.runDue()) > 0; i++);
  };
  /** Delivers a signed webhook with the clock at its issue time (plus the network), like Wix would. */
  const deliver = async (eventType: string, instanceId: string, at: number, data: Record<string, unknown> = {}) => {
    t.clock.set(at + 1_200);
    const token = await t.signer.sign({
      eventType,
      instanceId,
      iat: Math.floor(at / 1000),
      data: { appId: 'app-1', ...data },
      accountInfo: { accountId: 'acc-1' },
    });
    expect((await t.deliver(token)).status).toBe(200);
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    wix = await startFakeWix();
    t = await createTestRegistry({ now: NOW, wixApiBaseUrl: wix.url });

    // A month of activity: installs growing over 30 days, some removals, plan purchases.
    const events: { at: number; run: () => Promise<void> }[] = [];
    for (let day = 29; day >= 0; day--) {
      const perDay = 1 + ((day * 7) % 5 === 0 ? 3 : (day * 13) % 3) + (day < 10 ? 1 : 0);
      for (let n = 0; n < perDay; n++) {
        const id = uuid(`install-${day}-${n}`);
        const at = NOW - day * DAY - (n + 1) * 3_517_000 - 600_000;
        installed.push(id);
        events.push({ at, run: () => deliver('AppInstalled', id, at).then(drain) });
        if ((day + n) % 6 === 0 && day > 1) {
          const removedAt = at + (1 + (n % 3)) * DAY;
          events.push({ at: removedAt, run: () => deliver('AppRemoved', id, removedAt) });
        } else if ((day + n) % 4 === 1) {
          const boughtAt = at + 5 * 3_600_000;
          if (!planned) planned = id;
          events.push({
            at: boughtAt,
            run: () =>
              deliver('PaidPlanPurchased', id, boughtAt, {
                vendorProductId: n % 2 ? 'business' : 'premium',
                cycle: 'YEARLY',
                expiresOn: '2027-10-01T00:00:00.000Z',
              }),
          });
        }
      }
    }
    for (const e of events.sort((a, b) => a.at - b.at).filter((e) => e.at < NOW - 2 * 3_600_000)) await e.run();
    // Wix refusing the BI event for one instance (a dead job), and two installs not sent yet.
    const refused = uuid('refused');
    await deliver('AppInstalled', refused, NOW - 3_600_000);
    wix.fake.fail('bi-event', { kind: 'status', status: 403, body: { message: 'App is not installed on this site' } });
    await drain();
    t.clock.set(NOW);
    for (const n of [1, 2]) await deliver('AppInstalled', uuid(`pending-${n}`), NOW - n * 60_000);
    t.clock.set(NOW);

    server = await listenLocal(t.app);
    // launch() gives each run a fresh temporary profile (user-data-dir), removed on close.
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await t?.close();
    await wix?.close();
  });

  const shot = (page: Page, name: string, fullPage = true) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });

  it('signs in, shows the counts, the chart and the table, searches, opens an installation, signs out', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();

    // Signed out: the dashboard sends you to the sign-in form.
    await page.goto(`${server.url}/dashboard`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in');
    await expect(page.getByRole('heading', { name: 'Sign in to the dashboard' }).isVisible()).resolves.toBe(true);
    await shot(page, '01-sign-in');

    // A wrong key is refused, with a message and a 401.
    await page.getByLabel('API key').fill('not-a-key-of-this-registry');
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    expect(refused.status()).toBe(401);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('not accepted');
    expect(await context.cookies()).toEqual([]);
    await shot(page, '02-wrong-key');

    // The right key: a session cookie, and the overview.
    await page.getByLabel('API key').fill(TEST_API_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.url}/dashboard`);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'wix_registry_session', httpOnly: true, secure: true, sameSite: 'Strict', path: '/dashboard' });
    expect(cookie!.value).not.toContain(TEST_API_KEY);

    const counts = (await (await t.api('/v1/stats')).json()) as {
      installations: { active: number; removed: number };
      outbox: { pending: number; dead: number };
    };
    const stat = (id: string) => page.locator(`[data-stat="${id}"] .stat-value`).textContent();
    await expect(stat('active')).resolves.toBe(String(counts.installations.active));
    await expect(stat('removed')).resolves.toBe(String(counts.installations.removed));
    await expect(stat('outbox-pending')).resolves.toBe(String(counts.outbox.pending));
    await expect(stat('outbox-dead')).resolves.toBe('1');
    expect(counts.installations.removed).toBeGreaterThan(0);
    expect(counts.outbox.pending).toBeGreaterThan(0);

    const chart = page.getByRole('img', { name: 'Installs and removals per day' });
    await expect(chart.isVisible()).resolves.toBe(true);
    expect(await chart.locator('rect.bar-installs').count()).toBeGreaterThan(20);
    expect(await chart.locator('rect.bar-removals').count()).toBeGreaterThan(0);
    const barHeights = await chart.locator('rect.bar-installs').evaluateAll((bars) => bars.map((b) => b.getBoundingClientRect().height));
    expect(Math.min(...barHeights)).toBeGreaterThan(0);
    expect(await page.locator('table tbody tr[data-instance]').count()).toBe(25);
    // Nothing on the page was blocked by the CSP (the stylesheet is applied).
    await expect(
      page
        .locator('.stat')
        .first()
        .evaluate((el) => (globalThis as unknown as BrowserGlobals).getComputedStyle(el).borderRadius),
    ).resolves.toBe('12px');
    await shot(page, '03-overview');
    await page.screenshot({ path: README_SCREENSHOT, fullPage: false });
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, '03-overview-dark', false);
    await page.emulateMedia({ colorScheme: 'light' });

    // The same page at phone width.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await phone.addCookies(await context.cookies());
    const phonePage = await phone.newPage();
    await phonePage.goto(`${server.url}/dashboard`);
    await expect(phonePage.locator('h1').textContent()).resolves.toBe('Overview');
    await phonePage.screenshot({ path: join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true });
    // Nothing but the tables' own scroll areas is wider than the screen.
    await expect(phonePage.evaluate<number>('document.documentElement.scrollWidth')).resolves.toBeLessThanOrEqual(390);
    await phonePage.goto(`${server.url}/dashboard/installations/${planned}`);
    await expect(phonePage.evaluate<number>('document.documentElement.scrollWidth')).resolves.toBeLessThanOrEqual(390);
    await phonePage.screenshot({ path: join(ARTIFACTS, 'dashboard-phone-installation.png'), fullPage: true });
    await phone.close();

    // Search by part of an instance id.
    const wanted = planned;
    await page.getByRole('searchbox', { name: 'Search installations' }).fill(wanted.slice(0, 13));
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\/dashboard\/installations\?q=/);
    const rows = page.locator('table tbody tr[data-instance]');
    await expect(rows.count()).resolves.toBe(1);
    await expect(rows.first().getAttribute('data-instance')).resolves.toBe(wanted);
    await shot(page, '04-search');

    // Open it: the installation, its history and its outbox jobs.
    await page.getByRole('link', { name: wanted }).click();
    await page.waitForURL(`${server.url}/dashboard/installations/${wanted}`);
    const history = page.getByTestId('history');
    await expect(history.isVisible()).resolves.toBe(true);
    await expect(history.locator('tbody th').allTextContents()).resolves.toEqual(['AppInstalled', 'PaidPlanPurchased']);
    await expect(page.getByTestId('outbox-jobs').locator('tbody tr').count()).resolves.toBe(2);
    await shot(page, '05-installation');

    // Filters: removed installations only, oldest first.
    await page.goto(`${server.url}/dashboard/installations`);
    await page.getByLabel('Status').selectOption('removed');
    await page.getByLabel('Order').selectOption('asc');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/status=removed/);
    await expect(page.locator('table tbody tr[data-instance] td[data-label="Status"]').allTextContents()).resolves.toEqual(
      Array(counts.installations.removed).fill('removed'),
    );
    await shot(page, '06-filtered');

    // Sign out: back to the sign-in form, and the dashboard is closed again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${server.url}/dashboard/sign-in`);
    expect(await context.cookies()).toEqual([]);
    await shot(page, '07-signed-out');
    await page.goto(`${server.url}/dashboard`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in');
    await context.close();
  });
});
