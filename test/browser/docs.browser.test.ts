import { type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenLocal } from '../../src/sandbox/fake-wix.ts';
import { createTestRegistry, TEST_API_KEY, type TestRegistry } from '../helpers/registry.ts';
import { launchChromium } from '../helpers/browser.ts';

/**
 * /docs in a real browser (Debian's Chromium driven by playwright-core): Swagger UI loads from
 * the app's own files under its CSP, renders every operation of /openapi.json, and "Try it out"
 * with the API key gets a live answer. No skip when the browser is missing (as the dashboard's).
 */
const T0 = Math.floor(Date.UTC(2026, 9, 1) / 1000);

describe('/docs in Chromium', () => {
  let t: TestRegistry;
  let server: { url: string; close(): Promise<void> };
  let browser: Browser;

  beforeAll(async () => {
    t = await createTestRegistry();
    expect((await t.deliver(await t.signer.sign({ eventType: 'AppInstalled', instanceId: 'docs-1', iat: T0 }))).status).toBe(200);
    server = await listenLocal(t.app);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await t?.close();
  });

  it('renders every operation from local files, with no CSP violation, and "Try it out" works with the API key', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    const foreign: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('request', (r) => {
      if (!r.url().startsWith(server.url) && !r.url().startsWith('data:')) foreign.push(r.url());
    });
    await page.goto(`${server.url}/docs`);
    await page.locator('.opblock').first().waitFor({ timeout: 15_000 });
    const operationIds = await page.locator('.opblock').evaluateAll((els) => els.map((e) => (e as unknown as { id: string }).id));
    // Every operation of the document is on the page, whatever routes the registry has.
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.values(document.paths).reduce(
      (n, methods) => n + Object.keys(methods).filter((m) => m !== 'parameters').length,
      0,
    );
    expect(documented).toBeGreaterThanOrEqual(11);
    expect(operationIds.length).toBe(documented);

    // Authorize with the API key, then call GET /v1/stats from the page.
    await page.locator('button.authorize').first().click();
    await page.locator('.modal-ux input[type=text], .modal-ux input[type=password]').first().fill(TEST_API_KEY);
    await page.locator('.modal-ux button.authorize').first().click();
    await page.locator('.modal-ux button.btn-done').first().click();
    const stats = page.locator('.opblock-get', { has: page.locator('[data-path="/v1/stats"]') }).first();
    await stats.locator('.opblock-summary').click();
    await stats.locator('button.try-out__btn').click();
    await stats.locator('button.execute').click();
    const status = stats.locator('.live-responses-table tr.response .response-col_status').first();
    await expect.poll(async () => (await status.textContent())?.trim(), { timeout: 10_000 }).toBe('200');
    expect(await stats.locator('.live-responses-table .microlight').first().textContent()).toContain('"active": 1');

    // The schemas section renders the components (Installation, with its nested site and plan).
    const model = page
      .locator('.models article', { has: page.locator('.json-schema-2020-12__title', { hasText: /^Installation$/ }) })
      .first();
    await model.locator('button.json-schema-2020-12-expand-deep-button').first().click();
    await expect.poll(async () => await model.textContent(), { timeout: 5_000 }).toContain('installedAtInferred');
    expect(await model.textContent()).toContain('vendorProductId');

    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
    await page.close();
  });
});
