import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestRegistry, rowCounts, type TestRegistry } from '../helpers/registry.ts';

const T0 = Math.floor(Date.UTC(2026, 9, 1) / 1000);

describe('webhook ingest and the installation state machine (through the real app)', () => {
  let t: TestRegistry;
  beforeEach(async () => {
    t = await createTestRegistry({ now: (T0 + 86_400) * 1000 });
  });
  afterEach(() => t.close());

  const sign = (eventType: string, instanceId: string, iat: number, data: Record<string, unknown> = {}) =>
    t.signer.sign({
      eventType,
      instanceId,
      iat,
      data: { appId: 'app-1', ...data },
      accountInfo: { siteId: `site-${instanceId}`, accountId: 'acc-1' },
    });

  async function deliver(token: string, expected = 'accepted') {
    const res = await t.deliver(token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: expected });
  }

  async function installation(instanceId: string) {
    const res = await t.api(`/v1/installations/${instanceId}`);
    expect(res.status).toBe(200);
    return (await res.json()) as {
      installation: Record<string, unknown> & { plan: Record<string, unknown>; site: Record<string, unknown> };
      events: { eventType: string; outcome: string; issuedAt: string; receivedAt: string }[];
    };
  }

  it('records an install with its history, site and origin', async () => {
    await deliver(await sign('AppInstalled', 'i1', T0, { originInstanceId: 'copied-from' }));
    const { installation: inst, events } = await installation('i1');
    expect(inst).toMatchObject({
      instanceId: 'i1',
      appId: 'app-1',
      status: 'active',
      installedAt: new Date(T0 * 1000).toISOString(),
      removedAt: null,
      originInstanceId: 'copied-from',
      configuredAt: null,
    });
    expect(inst.site).toMatchObject({ siteId: 'site-i1', accountId: 'acc-1' });
    expect(events).toEqual([
      expect.objectContaining({ eventType: 'AppInstalled', outcome: 'applied', issuedAt: new Date(T0 * 1000).toISOString() }),
    ]);
  });

  it('a resend (the identical JWT) is acknowledged as duplicate and stored once', async () => {
    const token = await sign('AppInstalled', 'i1', T0);
    await deliver(token);
    await deliver(token, 'duplicate');
    await deliver(` ${token}\n`, 'duplicate');
    expect(await rowCounts(t.db)).toEqual({ deliveries: 1, installations: 1 });
  });

  it('out of order: a removal arriving before its install ends removed', async () => {
    await deliver(await sign('AppRemoved', 'i1', T0 + 60));
    await deliver(await sign('AppInstalled', 'i1', T0));
    const { installation: inst, events } = await installation('i1');
    expect(inst).toMatchObject({
      status: 'removed',
      installedAt: new Date(T0 * 1000).toISOString(),
      installedAtInferred: false,
      removedAt: new Date((T0 + 60) * 1000).toISOString(),
    });
    expect(events.map((e) => e.eventType)).toEqual(['AppInstalled', 'AppRemoved']);
  });

  it('reinstall makes it active again and keeps the whole history', async () => {
    await deliver(await sign('AppInstalled', 'i1', T0));
    await deliver(await sign('AppRemoved', 'i1', T0 + 100));
    await deliver(await sign('AppInstalled', 'i1', T0 + 200));
    const { installation: inst, events } = await installation('i1');
    expect(inst).toMatchObject({ status: 'active', installedAt: new Date((T0 + 200) * 1000).toISOString(), removedAt: null });
    expect(events).toHaveLength(3);
  });

  it('a late removal older than the reinstall does not remove; it dates the reinstall', async () => {
    await deliver(await sign('AppInstalled', 'i1', T0));
    await deliver(await sign('AppInstalled', 'i1', T0 + 200));
    await deliver(await sign('AppRemoved', 'i1', T0 + 100));
    const { installation: inst } = await installation('i1');
    // The removal proves the second install was a reinstall: the current installation began at T0+200.
    expect(inst).toMatchObject({ status: 'active', installedAt: new Date((T0 + 200) * 1000).toISOString(), removedAt: null });
  });

  it('an event older than the state it would change is recorded as stale and changes nothing', async () => {
    await deliver(await sign('AppInstalled', 'i1', T0));
    await deliver(await sign('AppRemoved', 'i1', T0 + 100));
    await deliver(await sign('AppInstalled', 'i1', T0 + 200));
    const before = (await installation('i1')).installation;
    await deliver(await sign('AppRemoved', 'i1', T0 + 150));
    const { installation: after, events } = await installation('i1');
    expect(after).toEqual(before);
    expect(events.find((e) => e.issuedAt === new Date((T0 + 150) * 1000).toISOString())?.outcome).toBe('stale');
  });

  it('a stale AppInstalled does not bring back a removed instance', async () => {
    await deliver(await sign('AppInstalled', 'i1', T0));
    await deliver(await sign('AppRemoved', 'i1', T0 + 100));
    await deliver(await sign('AppInstalled', 'i1', T0 - 50));
    expect((await installation('i1')).installation.status).toBe('removed');
  });

  it('plan events update the plan fields', async () => {
    await deliver(await sign('AppInstalled', 'i1', T0));
    await deliver(
      await sign('PaidPlanPurchased', 'i1', T0 + 10, {
        vendorProductId: 'premium',
        cycle: 'YEARLY',
        expiresOn: '2027-10-01T00:00:00.000Z',
      }),
    );
    await deliver(
      await sign('PaidPlanChanged', 'i1', T0 + 20, { vendorProductId: 'business', cycle: 'MONTHLY', previousVendorProductId: 'premium' }),
    );
    await deliver(await sign('PaidPlanAutoRenewalCancelled', 'i1', T0 + 30, { cancelReason: 'USER_ACTION' }));
    const { installation: inst } = await installation('i1');
    expect(inst.plan).toMatchObject({
      vendorProductId: 'business',
      cycle: 'MONTHLY',
      autoRenewing: false,
      changedAt: new Date((T0 + 30) * 1000).toISOString(),
    });
  });

  it('unknown but verified event types are stored and acknowledged, without touching state', async () => {
    await deliver(await sign('AppInstalled', 'i1', T0));
    await deliver(await sign('InvoiceStatusUpdated', 'i1', T0 + 5, { invoiceId: 'inv-1' }));
    await deliver(await sign('SomethingWixAddsNextYear', 'i2', T0 + 5));
    const { events } = await installation('i1');
    expect(events.map((e) => [e.eventType, e.outcome])).toEqual([
      ['AppInstalled', 'applied'],
      ['InvoiceStatusUpdated', 'ignored'],
    ]);
    expect(await rowCounts(t.db)).toEqual({ deliveries: 3, installations: 1 });
    expect((await t.api('/v1/installations/i2')).status).toBe(404);
  });

  it('a plan event for an unseen instance is kept: the instance shows as active with an inferred install time until the install arrives', async () => {
    await deliver(await sign('PaidPlanPurchased', 'i9', T0 + 10, { vendorProductId: 'premium', cycle: 'YEARLY' }));
    let { installation: inst } = await installation('i9');
    expect(inst).toMatchObject({ status: 'active', installedAtInferred: true, installedAt: new Date((T0 + 10) * 1000).toISOString() });
    expect(inst.plan.vendorProductId).toBe('premium');
    await deliver(await sign('AppInstalled', 'i9', T0));
    ({ installation: inst } = await installation('i9'));
    expect(inst).toMatchObject({ status: 'active', installedAtInferred: false, installedAt: new Date(T0 * 1000).toISOString() });
    expect(inst.plan.vendorProductId).toBe('premium');
  });

  it('keeps everything across a restart on the same file', async () => {
    await deliver(await sign('AppInstalled', 'i1', T0));
    await deliver(await sign('AppRemoved', 'i1', T0 + 100));
    const token = await sign('AppInstalled', 'i2', T0 + 5);
    await deliver(token);
    await t.restart();
    expect((await installation('i1')).installation.status).toBe('removed');
    expect((await installation('i2')).events).toHaveLength(1);
    await deliver(token, 'duplicate');
  });

  it('deliveries arriving together are committed in one batch and each answered with its own status', async () => {
    const tokens = await Promise.all(Array.from({ length: 40 }, (_, i) => sign('AppInstalled', `batch-${i}`, T0 + i)));
    const answers = await Promise.all([...tokens, tokens[0]!, tokens[1]!].map((token) => t.deliver(token).then((r) => r.json())));
    expect(answers.filter((a) => (a as { status: string }).status === 'accepted')).toHaveLength(40);
    expect(answers.filter((a) => (a as { status: string }).status === 'duplicate')).toHaveLength(2);
    expect(await rowCounts(t.db)).toEqual({ deliveries: 40, installations: 40 });
  });
});
