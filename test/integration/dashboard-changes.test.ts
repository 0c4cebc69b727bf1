import { afterEach, describe, expect, it } from 'vitest';
import { newEventSecret, startPushReceiver, type PushReceiver } from '../helpers/push-receiver.ts';
import { createTestRegistry, TEST_API_KEY, type TestRegistry } from '../helpers/registry.ts';

/** The dashboard's Changes page: the latest changes, filterable by instance, and push endpoint health. */

const NOW = Date.UTC(2026, 10, 1, 12, 0);

describe('the dashboard: Changes', () => {
  let t: TestRegistry;
  let receiver: PushReceiver | null = null;
  afterEach(async () => {
    await t?.close();
    await receiver?.close();
    receiver = null;
  });

  let iat = Math.floor(NOW / 1000) - 3_600;
  const deliver = async (eventType: string, instanceId: string, data: Record<string, unknown> = {}) =>
    expect((await t.deliver(await t.signer.sign({ eventType, instanceId, iat: iat++, data }))).status).toBe(200);
  async function signIn(): Promise<string> {
    const res = await t.app.request('/dashboard/sign-in', {
      method: 'POST',
      body: new URLSearchParams({ apiKey: TEST_API_KEY }),
      headers: { origin: 'http://localhost' },
    });
    expect(res.status).toBe(303);
    return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  }
  const page = async (path: string, cookie: string) => {
    const res = await t.app.request(path, { headers: { cookie } });
    return { status: res.status, html: await res.text() };
  };
  /** The change rows of a page: [type label, instance]. */
  const rows = (html: string) =>
    [
      ...html.matchAll(/<tr data-change="[^"]+">.*?<span class="badge[^"]*">([^<]+)<\/span>.*?class="instance-link mono"[^>]*>([^<]+)</gs),
    ].map((m) => [m[1], m[2]]);

  it('lists the latest changes newest first, filters by instance, and pages back through older ones', async () => {
    t = await createTestRegistry({ now: NOW });
    await deliver('AppInstalled', 'inst-a');
    await deliver('PaidPlanPurchased', 'inst-a', { vendorProductId: 'premium' });
    for (let i = 0; i < 27; i++) await deliver('AppInstalled', `inst-${String(i).padStart(2, '0')}`);
    await deliver('AppRemoved', 'inst-a');
    const cookie = await signIn();

    const first = await page('/dashboard/changes', cookie);
    expect(first.status).toBe(200);
    expect(first.html).toContain('aria-current="page">Changes</a>');
    const newest = rows(first.html);
    expect(newest).toHaveLength(25);
    expect(newest[0]).toEqual(['removed', 'inst-a']);
    expect(newest[1]).toEqual(['installed', 'inst-26']);
    const older = /href="(\/dashboard\/changes\?before=\d+)" rel="next"/.exec(first.html)?.[1];
    expect(older).toBeDefined();
    const second = await page(older!.replaceAll('&amp;', '&'), cookie);
    expect(rows(second.html)).toEqual([
      ['installed', 'inst-02'],
      ['installed', 'inst-01'],
      ['installed', 'inst-00'],
      ['plan changed', 'inst-a'],
      ['installed', 'inst-a'],
    ]);
    expect(second.html).toContain('href="/dashboard/changes">← First page</a>');

    const filtered = await page('/dashboard/changes?instance=inst-a', cookie);
    expect(rows(filtered.html)).toEqual([
      ['removed', 'inst-a'],
      ['plan changed', 'inst-a'],
      ['installed', 'inst-a'],
    ]);
    expect(filtered.html).toContain('value="inst-a"');
    expect(rows((await page('/dashboard/changes?instance=nobody', cookie)).html)).toEqual([]);
    // The installation page links to its changes.
    expect((await page('/dashboard/installations/inst-a', cookie)).html).toContain('href="/dashboard/changes?instance=inst-a"');
    // An instance id is shown as text, never markup.
    expect((await page(`/dashboard/changes?instance=${encodeURIComponent('<b>x</b>')}`, cookie)).html).not.toContain('<b>x</b>');
    expect((await page('/dashboard/changes?before=-3', cookie)).status).toBe(400);
  });

  it('shows each push endpoint: last success, failures, dead; never the credential in its URL', async () => {
    const secret = newEventSecret();
    receiver = await startPushReceiver(secret);
    receiver.failAlways(500);
    const withSecrets = receiver.url.replace('http://', 'http://user:hunter2@') + '?token=s3cret';
    t = await createTestRegistry({
      now: NOW,
      outboxPollIntervalMs: 20,
      backoff: { baseMs: 1, capMs: 1, maxAttempts: 2 },
      push: { endpoints: [withSecrets], secret },
    });
    await t.registry.start();
    const cookie = await signIn();
    const empty = await page('/dashboard/changes', cookie);
    expect(empty.html).toMatch(/data-endpoint="http:\/\/127\.0\.0\.1:\d+\/hooks\/registry \(…\)"/);

    await deliver('AppInstalled', 'inst-dead');
    for (let i = 0; i < 200 && (await t.store.push.endpoints())[0]!.dead === 0; i++) {
      t.clock.advance(1_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const { html } = await page('/dashboard/changes', cookie);
    const row = /<tr data-endpoint="[^"]*">.*?<\/tr>/s.exec(html)?.[0] ?? '';
    expect(row).toContain('never'); // last success
    expect(row).toMatch(/data-label="Failures"[^>]*>2 <span class="muted small">\(2 in all\)/);
    expect(row).toContain('<span class="badge badge-dead">1</span>');
    expect(row).toContain('answered 500');
    // The credentials in the URL reach the endpoint (Basic authentication, and the query as it is).
    expect(receiver.received[0]).toMatchObject({
      url: '/hooks/registry?token=s3cret',
      headers: { authorization: `Basic ${Buffer.from('user:hunter2').toString('base64')}` },
    });
    expect(html).not.toContain('hunter2');
    expect(html).not.toContain('s3cret');
    // The installation's page lists the dead push among its outbox jobs, naming the endpoint the same way.
    const installationPage = (await page('/dashboard/installations/inst-dead', cookie)).html;
    expect(installationPage).toMatch(/Push of a change to http:\/\/127\.0\.0\.1:\d+\/hooks\/registry \(…\)/);
    expect(installationPage).not.toContain('hunter2');
    const stats = JSON.stringify(await (await t.api('/v1/stats')).json());
    expect(stats).not.toContain('hunter2');
    expect(stats).not.toContain('s3cret');
  });
});
