import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Change } from '../../src/changes/serialize.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { createTestRegistry, type TestRegistry } from '../helpers/registry.ts';
import type { TestWebhook } from '../helpers/sign.ts';
import { TEST_ENGINE } from '../helpers/engine.ts';

/** A trigger that makes writing i-fail's state fail, in each engine's own trigger language. */
const FAILING_TRIGGER = {
  sqlite: [
    `CREATE TRIGGER fail_i_fail BEFORE INSERT ON installations WHEN NEW.instance_id = 'i-fail' BEGIN SELECT RAISE(ABORT, 'boom'); END;`,
  ],
  postgres: [
    `CREATE FUNCTION fail_i_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.instance_id = 'i-fail' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$`,
    `CREATE TRIGGER fail_i_fail BEFORE INSERT ON installations FOR EACH ROW EXECUTE FUNCTION fail_i_fail()`,
  ],
};

/**
 * Issue 10: every visible transition of an installation appends exactly one change, in the same
 * transaction; a resend, a duplicate, a stale event or a replay that changes nothing appends none.
 */

let wix: RunningFakeWix;
beforeAll(async () => {
  wix = await startFakeWix();
});
afterAll(() => wix.close());

describe('changes recorded with the state they describe', () => {
  let t: TestRegistry;
  const T0 = Date.UTC(2026, 10, 1, 12);
  const sec = (offset: number) => Math.floor(T0 / 1000) + offset;
  beforeEach(async () => {
    wix.fake.clearFaults();
    t = await createTestRegistry({ wixApiBaseUrl: wix.url, now: T0 + 3_600_000 });
  });
  afterEach(() => t.close());

  const send = async (webhook: TestWebhook) => {
    const token = await t.signer.sign(webhook);
    const res = await t.deliver(token);
    expect(res.status).toBe(200);
    return { token, status: ((await res.json()) as { status: string }).status };
  };
  const installed = (instanceId: string, iat: number) => send({ eventType: 'AppInstalled', instanceId, iat, data: { appId: 'app-1' } });
  const removed = (instanceId: string, iat: number) => send({ eventType: 'AppRemoved', instanceId, iat });
  const plan = (instanceId: string, iat: number, vendorProductId = 'premium') =>
    send({ eventType: 'PaidPlanPurchased', instanceId, iat, data: { vendorProductId, cycle: 'YEARLY' } });
  /** The whole feed, through the API. */
  async function feed(): Promise<Change[]> {
    const res = await t.api('/v1/changes?limit=1000');
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: Change[] }).items;
  }
  const types = async () => (await feed()).map((c) => [c.type, c.instanceId]);
  async function drainOutbox() {
    for (let i = 0; i < 10 && (await t.registry.outbox.worker.runDue()) > 0; i++);
  }

  it('an install makes one installation.installed, with the state after it and the event iat as occurredAt', async () => {
    await installed('i1', sec(0));
    const [change, ...rest] = await feed();
    expect(rest).toEqual([]);
    expect(change).toMatchObject({
      type: 'installation.installed',
      instanceId: 'i1',
      occurredAt: new Date(sec(0) * 1000).toISOString(),
      recordedAt: new Date(t.clock.now()).toISOString(),
      installation: { instanceId: 'i1', status: 'active', installedAt: new Date(sec(0) * 1000).toISOString(), configuredAt: null },
    });
    expect(change!.id).toMatch(/^chg_[0-9a-f]{32}$/);
    // The installation in the change is the one the API shows at that moment.
    const { installation } = (await (await t.api('/v1/installations/i1')).json()) as { installation: unknown };
    expect(change!.installation).toEqual(installation);
  });

  it('removal, reinstall and a plan change: one change each, in commit order', async () => {
    await installed('i1', sec(0));
    await plan('i1', sec(10));
    await removed('i1', sec(20));
    await installed('i1', sec(30));
    expect(await types()).toEqual([
      ['installation.installed', 'i1'],
      ['installation.plan_changed', 'i1'],
      ['installation.removed', 'i1'],
      ['installation.installed', 'i1'],
    ]);
    const changes = await feed();
    expect(changes[1]!.installation.plan).toMatchObject({ vendorProductId: 'premium', cycle: 'YEARLY' });
    expect(changes[2]!.installation).toMatchObject({ status: 'removed', removedAt: new Date(sec(20) * 1000).toISOString() });
    expect(changes[3]!.installation).toMatchObject({
      status: 'active',
      removedAt: null,
      installedAt: new Date(sec(30) * 1000).toISOString(),
    });
  });

  it('a Wix resend (duplicate), a stale event and an unknown event type append nothing', async () => {
    const { token } = await installed('i1', sec(100));
    await removed('i1', sec(200));
    const before = await feed();
    expect(before).toHaveLength(2);
    expect(((await (await t.deliver(token)).json()) as { status: string }).status).toBe('duplicate');
    await installed('i1', sec(150)); // inside the installation, older than its removal: stale
    await removed('i1', sec(300)); // removed already: nothing visible changes
    await send({ eventType: 'InvoiceStatusUpdated', instanceId: 'i1', iat: sec(400) });
    expect(await feed()).toEqual(before);
  });

  it('the outbox: Wix accepting APP_FINISHED_CONFIGURATION is installation.configured, the site sync installation.site_updated, each once', async () => {
    await installed('i1', sec(0));
    await drainOutbox();
    const changes = await feed();
    expect(changes.map((c) => c.type).sort()).toEqual(['installation.configured', 'installation.installed', 'installation.site_updated']);
    const configured = changes.find((c) => c.type === 'installation.configured')!;
    expect(configured.installation.configuredAt).toBe(new Date(t.clock.now()).toISOString());
    expect(configured.occurredAt).toBe(new Date(t.clock.now()).toISOString());
    const siteUpdated = changes.find((c) => c.type === 'installation.site_updated')!;
    expect(siteUpdated.installation.site).toMatchObject({ name: 'Sandbox Site i1', url: 'https://sandbox-i1.wixsite.com/site' });

    // A second sync that learns nothing new (the same answer from Wix) appends nothing.
    const { installedAt } = changes[0]!.installation;
    await t.store.write({
      kind: 'finishJob',
      job: { id: -1, kind: 'sync_instance', instanceId: 'i1', installationStartedAt: Date.parse(installedAt) },
      effect: {
        site: {
          siteId: 'site-i1',
          siteName: 'Sandbox Site i1',
          siteUrl: 'https://sandbox-i1.wixsite.com/site',
          appVersion: '1.4.0',
          isFree: true,
        },
      },
      now: t.clock.now() + 1000,
    });
    // …and a repeated configuration (a crash between Wix's answer and the commit) keeps the first time.
    await t.store.write({
      kind: 'finishJob',
      job: { id: -1, kind: 'finished_configuration', instanceId: 'i1', installationStartedAt: Date.parse(installedAt) },
      effect: null,
      now: t.clock.now() + 2000,
    });
    expect(await feed()).toEqual(changes);
    // A sync that learns something new is one more site_updated.
    await t.store.write({
      kind: 'finishJob',
      job: { id: -1, kind: 'sync_instance', instanceId: 'i1', installationStartedAt: Date.parse(installedAt) },
      effect: {
        site: { siteId: 'site-i1', siteName: 'Renamed', siteUrl: 'https://sandbox-i1.wixsite.com/site', appVersion: '1.4.0', isFree: true },
      },
      now: t.clock.now() + 3000,
    });
    expect((await feed()).slice(changes.length).map((c) => [c.type, c.installation.site.name])).toEqual([
      ['installation.site_updated', 'Renamed'],
    ]);
  });

  it('after a reinstall, Wix accepting the BI event again is a new installation.configured', async () => {
    await installed('i1', sec(0));
    await drainOutbox();
    await removed('i1', sec(10));
    await installed('i1', sec(20));
    await drainOutbox();
    expect((await feed()).map((c) => c.type).filter((type) => type === 'installation.configured')).toHaveLength(2);
  });

  it('out of order: a late removal older than a reinstall re-dates it (one installed), a first sighting by a plan event is installed', async () => {
    await installed('i1', sec(0));
    await installed('i1', sec(30)); // a second AppInstalled while active: the same installation, nothing visible
    expect(await types()).toEqual([['installation.installed', 'i1']]);
    await removed('i1', sec(20)); // arrives late: i1 was removed at 20 and installed again at 30
    expect(await types()).toEqual([
      ['installation.installed', 'i1'],
      ['installation.installed', 'i1'],
    ]);
    expect((await feed())[1]!.installation).toMatchObject({ status: 'active', installedAt: new Date(sec(30) * 1000).toISOString() });

    await plan('i2', sec(40)); // never seen: an inferred installation
    await removed('i3', sec(40)); // never seen, removed
    expect((await types()).slice(2)).toEqual([
      ['installation.installed', 'i2'],
      ['installation.removed', 'i3'],
    ]);
    expect((await feed())[2]!.installation).toMatchObject({ installedAtInferred: true, plan: { vendorProductId: 'premium' } });
  });

  it('a replay that changes nothing appends nothing; one that repairs the state appends the change it makes', async () => {
    await installed('i1', sec(0));
    const before = await feed();
    const [delivery] = await t.store.deliveries.list({ instanceId: 'i1' });
    expect(await t.registry.ingest.replay(delivery!.id)).toMatchObject({ changed: false });
    expect(await feed()).toEqual(before);

    // The stored state drifts from its history (a state-machine fix, a hand edit): the replay repairs it.
    await t.db.run(`UPDATE installations SET status = 'removed', removed_at = ? WHERE instance_id = 'i1'`, [sec(5) * 1000]);
    expect(await t.registry.ingest.replay(delivery!.id)).toMatchObject({ changed: true });
    const after = await feed();
    expect(after.slice(before.length).map((c) => [c.type, c.installation.status])).toEqual([['installation.installed', 'active']]);
  });

  it('a failed transaction appends no change: the change commits with its state or not at all', async () => {
    // A trigger makes writing i-fail's state fail inside the delivery's transaction.
    for (const statement of FAILING_TRIGGER[TEST_ENGINE]) await t.db.run(statement);
    const token = await t.signer.sign({ eventType: 'AppInstalled', instanceId: 'i-fail', iat: sec(0) });
    expect((await t.deliver(token)).status).toBeGreaterThanOrEqual(500);
    await installed('i-ok', sec(0));
    expect(await types()).toEqual([['installation.installed', 'i-ok']]);
    expect((await t.db.query(`SELECT count(*) AS n FROM changes WHERE instance_id = 'i-fail'`))[0]).toEqual({ n: 0 });
  });
});
