/**
 * Reconciliation and import through the real store, against the fake Wix over HTTP: what is
 * repaired, what is recorded, and — first — what is never removed.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createReconciler } from '../../src/reconcile/reconciler.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { createTestRegistry, rowCounts, TEST_APP_ID, TEST_APP_SECRET, type TestRegistry } from '../helpers/registry.ts';

let wix: RunningFakeWix;
beforeAll(async () => {
  wix = await startFakeWix();
});
afterAll(() => wix.close());

describe('reconcile and import', () => {
  let t: TestRegistry;
  /** Manual-clock times at which each HTTP call to Wix started. */
  let callTimes: { url: string; at: number }[];
  const nowSec = () => Math.floor(t.clock.now() / 1000);

  beforeEach(async () => {
    wix.fake.calls.length = 0;
    wix.fake.biEvents.length = 0;
    wix.fake.clearFaults();
    t = await createTestRegistry({ wixApiBaseUrl: wix.url, wixRequestTimeoutMs: 500 });
    callTimes = [];
  });
  afterEach(() => t.close());

  const reconciler = (overrides: { appSecret?: string; timeoutMs?: number; ratePerSec?: number; maxRemovedShare?: number } = {}) =>
    createReconciler({
      store: t.store,
      clock: t.clock,
      wix: { appId: TEST_APP_ID, appSecret: overrides.appSecret ?? TEST_APP_SECRET, wixApiBaseUrl: wix.url },
      ratePerSec: overrides.ratePerSec ?? 20,
      maxRemovedShare: overrides.maxRemovedShare ?? 0.5,
      // Waiting moves the manual clock: a run never sleeps for real.
      sleep: async (ms) => t.clock.advance(ms),
      timeoutMs: overrides.timeoutMs ?? 500,
      fetch: async (input, init) => {
        callTimes.push({ url: String(input instanceof Request ? input.url : input), at: t.clock.now() });
        return fetch(input, init);
      },
    });

  const send = async (eventType: string, instanceId: string, iat: number) =>
    expect(await (await t.deliver(await t.signer.sign({ eventType, instanceId, iat, data: { appId: TEST_APP_ID } }))).json()).toEqual({
      status: 'accepted',
    });
  async function installAndSync(...ids: string[]) {
    for (const id of ids) await send('AppInstalled', id, nowSec() - 3_600);
    for (let i = 0; i < 3; i++) await t.registry.outbox.worker.runDue();
    wix.fake.calls.length = 0;
  }
  const installation = async (id: string) => (await t.store.installations.get(id))!;
  const history = async (id: string) => (await t.store.installations.history(id)).map((e) => [e.eventType, e.outcome]);
  const tokenRequests = () => wix.fake.callsTo('token').length;

  describe('reconcile', () => {
    it('repairs a missed removal and refreshes site data; a second run changes nothing', async () => {
      await installAndSync('r-a', 'r-b', 'r-c');
      wix.fake.markRemoved('r-b'); // removed on Wix's side; the webhook was lost
      wix.fake.changeSite('r-c', { siteName: 'Bakery Renamed', siteUrl: 'https://bakery.example' });
      const started = t.clock.now();

      const summary = await reconciler().reconcile(['r-a', 'r-b', 'r-c']);
      expect(summary).toEqual({ checked: 3, active: 2, removed: 1, updated: 1, reinstated: 0, failed: 0, skipped: 0, stopped: null });

      const removed = await installation('r-b');
      expect(removed.status).toBe('removed');
      expect(removed.removedAt).toBeGreaterThanOrEqual(started);
      expect(await history('r-b')).toEqual([
        ['AppInstalled', 'applied'],
        ['Reconciled.Removed', 'applied'],
      ]);
      expect(await t.store.outbox.list({ instanceId: 'r-b', status: 'pending' })).toEqual([]);
      expect(await installation('r-c')).toMatchObject({
        status: 'active',
        siteName: 'Bakery Renamed',
        siteUrl: 'https://bakery.example',
        checkedAt: expect.any(Number),
      });
      expect(await history('r-c')).toEqual([
        ['AppInstalled', 'applied'],
        ['Reconciled.SiteUpdated', 'applied'],
      ]);
      const { installation: shown, events } = (await (await t.api('/v1/installations/r-c')).json()) as {
        installation: { checkedAt: string | null };
        events: { eventType: string; data: Record<string, unknown> }[];
      };
      expect(shown.checkedAt).toBe(new Date((await installation('r-c')).checkedAt!).toISOString());
      expect(events[1]).toMatchObject({
        eventType: 'Reconciled.SiteUpdated',
        data: { siteName: 'Bakery Renamed', changed: ['siteName', 'siteUrl'] },
      });
      const list = await t.store.deliveries.list({ instanceId: 'r-b' });
      expect(list[0]).toMatchObject({
        eventType: 'Reconciled.Removed',
        source: 'reconcile',
        sha256: expect.stringMatching(/^reconcile:Reconciled\.Removed:r-b:\d+$/),
      });
      expect(await t.store.deliveries.jwt(list[0]!.id)).toMatchObject({ jwt: null, source: 'reconcile' });

      const before = await rowCounts(t.db);
      t.clock.advance(60_000);
      const again = await reconciler().reconcile(['r-a', 'r-c']);
      expect(again).toMatchObject({ checked: 2, removed: 0, updated: 0, stopped: null });
      expect(await rowCounts(t.db)).toEqual(before);
    });

    it('a later reinstall webhook wins over the repair; a webhook older than the check does not undo it', async () => {
      await installAndSync('w-1', 'w-2', 'w-3');
      wix.fake.markRemoved('w-1');
      wix.fake.markRemoved('w-2');
      expect(await reconciler().reconcile(['w-1', 'w-2', 'w-3'])).toMatchObject({ removed: 2, stopped: null });
      const checkSec = nowSec();

      await send('AppInstalled', 'w-1', checkSec + 60); // reinstalled after the check
      expect(await installation('w-1')).toMatchObject({ status: 'active', installedAt: (checkSec + 60) * 1000, removedAt: null });
      await send('AppInstalled', 'w-2', checkSec - 600); // an old install arriving late
      await send('PaidPlanPurchased', 'w-2', checkSec - 300);
      expect(await installation('w-2')).toMatchObject({ status: 'removed' });
      // Wix's own removal, older than the check, dates it more exactly.
      await send('AppRemoved', 'w-2', checkSec - 120);
      expect(await installation('w-2')).toMatchObject({ status: 'removed', removedAt: (checkSec - 120) * 1000 });
    });

    it('finds a reinstall the webhooks missed (--instance on a removed installation), and configures it', async () => {
      await installAndSync('m-1', 'm-ctl');
      await send('AppRemoved', 'm-1', nowSec() - 60);
      // Reinstalled later; that webhook was lost.
      const summary = await reconciler().reconcile(['m-1']);
      expect(summary).toMatchObject({ checked: 1, reinstated: 1, removed: 0, stopped: null });
      expect(await installation('m-1')).toMatchObject({ status: 'active', installedAtInferred: true, siteName: 'Sandbox Site m-1' });
      expect((await t.store.outbox.list({ instanceId: 'm-1', status: 'pending' })).map((j) => j.kind)).toEqual(['finished_configuration']);
    });

    it('removes an instance whose only refusal is confirmed against an installation the registry knows (a single-instance run)', async () => {
      await installAndSync('s-1', 's-ctl');
      wix.fake.markRemoved('s-1');
      expect(await reconciler().reconcile(['s-1'])).toMatchObject({ checked: 1, removed: 1, stopped: null });
      // s-1 refused, the control s-ctl issued, s-1 refused again.
      expect(wix.fake.callsTo('token').map((c) => (c.body as { instance_id: string }).instance_id)).toEqual(['s-1', 's-ctl', 's-1']);
    });

    it('a wrong app secret removes nothing, stops early, and says why', async () => {
      await installAndSync('x-1', 'x-2', 'x-3');
      const before = await rowCounts(t.db);
      const summary = await reconciler({ appSecret: 'wrong-secret' }).reconcile(['x-1', 'x-2', 'x-3']);
      expect(summary.removed).toBe(0);
      expect(summary.stopped).toMatch(/refusing the app.*WIX_APP_SECRET/);
      expect(summary.failed).toBe(3);
      expect(await rowCounts(t.db)).toEqual(before);
      for (const id of ['x-1', 'x-2', 'x-3']) expect((await installation(id)).status).toBe('active');
    });

    it('Wix refusing the control too (it is refusing the app) stops the run before anything is removed', async () => {
      await installAndSync('c-1', 'c-2');
      const refused = { kind: 'status' as const, status: 403 };
      // c-1 is issued (the control), then Wix refuses everything.
      const run = reconciler();
      const summary = await run.reconcile(
        (async function* () {
          yield 'c-1';
          wix.fake.fail('token', refused, refused, refused, refused);
          yield 'c-2';
        })(),
      );
      expect(summary).toMatchObject({ checked: 1, removed: 0, failed: 1 });
      expect(summary.stopped).toMatch(/then for c-1.*refusing the app/);
      expect((await installation('c-2')).status).toBe('active');
    });

    it('500s and timeouts remove nothing and stop early with the reason', async () => {
      await installAndSync('f-1', 'f-2');
      wix.fake.fail('token', ...Array.from({ length: 10 }, () => ({ kind: 'status' as const, status: 500 })));
      const failing = await reconciler().reconcile(['f-1', 'f-2']);
      expect(failing).toMatchObject({ checked: 0, removed: 0, failed: 1 });
      expect(failing.stopped).toMatch(/Wix is not answering.*500/);
      wix.fake.clearFaults();

      wix.fake.fail('token', ...Array.from({ length: 10 }, () => ({ kind: 'delay' as const, ms: 300 })));
      const slow = await reconciler({ timeoutMs: 100 }).reconcile(['f-1', 'f-2']);
      expect(slow).toMatchObject({ checked: 0, removed: 0 });
      expect(slow.stopped).toMatch(/Wix is not answering.*timed out/);
      for (const id of ['f-1', 'f-2']) expect((await installation(id)).status).toBe('active');
    });

    it('429s: Retry-After is honoured before asking again, and a run still refused stops without removing', async () => {
      await installAndSync('q-1', 'q-2');
      wix.fake.fail('token', { kind: 'status', status: 429, retryAfterSec: 7 }, { kind: 'status', status: 429, retryAfterSec: 7 });
      const recovered = await reconciler().reconcile(['q-1']);
      expect(recovered).toMatchObject({ checked: 1, removed: 0, stopped: null });
      const tokenCalls = callTimes.filter((c) => c.url.endsWith('/oauth2/token'));
      expect(tokenCalls[1]!.at - tokenCalls[0]!.at).toBeGreaterThanOrEqual(7_000);
      expect(tokenCalls[2]!.at - tokenCalls[1]!.at).toBeGreaterThanOrEqual(7_000);

      wix.fake.fail('token', ...Array.from({ length: 10 }, () => ({ kind: 'status' as const, status: 429, retryAfterSec: 1 })));
      const limited = await reconciler().reconcile(['q-1', 'q-2']);
      expect(limited).toMatchObject({ removed: 0, checked: 0 });
      expect(limited.stopped).toMatch(/Wix is not answering.*429/);

      wix.fake.clearFaults();
      wix.fake.fail('token', { kind: 'status', status: 429, retryAfterSec: 3_600 });
      expect((await reconciler().reconcile(['q-1'])).stopped).toMatch(/Wix asks to wait 3600 s/);
    });

    it('stops when more of the checked installations turn out removed than RECONCILE_MAX_REMOVED_SHARE allows', async () => {
      const ids = Array.from({ length: 24 }, (_, i) => `share-${String(i).padStart(2, '0')}`);
      await installAndSync(...ids);
      for (const id of ids.slice(0, 12)) wix.fake.markRemoved(id);
      // Active ones first, so a control exists; then the removals pile up.
      const summary = await reconciler({ maxRemovedShare: 0.3 }).reconcile([...ids.slice(12), ...ids.slice(0, 12)]);
      expect(summary.stopped).toMatch(/more than the 30 %/);
      // Judged from 20 checked on: 12 active + 8 removed is 40 %, the first count past 30 %.
      expect(summary).toMatchObject({ checked: 20, removed: 8, failed: 0 });
      expect((await installation(ids[8]!)).status).toBe('active');
    });
  });

  describe('import', () => {
    it('records each new id active (with its site) or removed, skips known ids, and changes nothing the second time', async () => {
      await installAndSync('known-1');
      wix.fake.markRemoved('gone-1');
      const ids = ['new-1', 'gone-1', 'new-2', 'known-1'];
      const summary = await reconciler().importIds(ids);
      expect(summary).toMatchObject({ imported: 3, active: 2, removed: 1, failed: 0, skipped: 1, stopped: null });
      expect(await installation('new-1')).toMatchObject({
        status: 'active',
        installedAtInferred: true,
        siteName: 'Sandbox Site new-1',
        checkedAt: expect.any(Number),
      });
      expect(await installation('gone-1')).toMatchObject({ status: 'removed', installedAtInferred: true });
      expect(await history('new-1')).toEqual([['Imported.Installed', 'applied']]);
      expect(await history('gone-1')).toEqual([['Imported.Removed', 'applied']]);
      // Configured before the registry knew them; the site is already known: no job at all.
      expect(await t.store.outbox.list({ instanceId: 'new-1' })).toEqual([]);
      // Not counted as installs or removals of any day.
      const stats = (await (await t.api(`/v1/stats/daily?from=${new Date(t.clock.now()).toISOString().slice(0, 10)}`)).json()) as {
        days: { installs: number; removals: number; active: number }[];
      };
      expect(stats.days[0]).toMatchObject({ installs: 0, removals: 0 });

      const before = await rowCounts(t.db);
      const calls = tokenRequests();
      t.clock.advance(60_000);
      expect(await reconciler().importIds(ids)).toMatchObject({ imported: 0, active: 0, removed: 0, failed: 0, skipped: 4 });
      expect(await rowCounts(t.db)).toEqual(before);
      expect(tokenRequests()).toBe(calls);
    });

    it('--configure queues APP_FINISHED_CONFIGURATION for the active ones only', async () => {
      wix.fake.markRemoved('cfg-gone');
      await reconciler().importIds(['cfg-1', 'cfg-gone'], { configure: true });
      expect((await t.store.outbox.list({ instanceId: 'cfg-1' })).map((j) => [j.kind, j.status])).toEqual([
        ['finished_configuration', 'pending'],
      ]);
      expect(await t.store.outbox.list({ instanceId: 'cfg-gone' })).toEqual([]);
    });

    it('into an empty registry, refusals wait for a first token to be told apart from Wix refusing the app', async () => {
      for (const id of ['e-1', 'e-2', 'e-3']) wix.fake.markRemoved(id);
      const summary = await reconciler().importIds(['e-1', 'e-2', 'e-3', 'e-4']);
      expect(summary).toMatchObject({ imported: 4, active: 1, removed: 3, failed: 0, stopped: null });
    });

    it('with a wrong secret records nothing, and says why', async () => {
      const summary = await reconciler({ appSecret: 'wrong-secret' }).importIds(Array.from({ length: 12 }, (_, i) => `ws-${i}`));
      expect(summary).toMatchObject({ imported: 12, active: 0, removed: 0, failed: 12 });
      expect(summary.stopped).toMatch(/refused tokens for 10 instances and issued none/);
      expect(await rowCounts(t.db)).toEqual({ deliveries: 0, installations: 0 });
    });

    it('with only removed ids and no installation to compare with, records nothing: a removal cannot be told from a refusal of the app', async () => {
      for (const id of ['o-1', 'o-2']) wix.fake.markRemoved(id);
      const summary = await reconciler().importIds(['o-1', 'o-2']);
      expect(summary).toMatchObject({ imported: 2, removed: 0, failed: 2 });
      expect(summary.stopped).toMatch(/nothing was recorded/);
      expect(await rowCounts(t.db)).toEqual({ deliveries: 0, installations: 0 });
    });
  });
});
