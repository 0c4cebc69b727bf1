import { describe, expect, it } from 'vitest';
import { foldInstallation, type HistoryEvent } from '../../src/installations/state-machine.ts';

let n = 0;
const ev = (eventType: string, issuedAtSec: number, data: Record<string, unknown> = {}): HistoryEvent => ({
  eventType,
  issuedAt: issuedAtSec * 1000,
  data,
  tieBreaker: `h${String(++n).padStart(4, '0')}`,
});

/** Every permutation of a small list. */
function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe('foldInstallation', () => {
  it('install → active with origin; remove → removed; reinstall → active again with a new installedAt', () => {
    const installed = foldInstallation([ev('AppInstalled', 100, { appId: 'a', originInstanceId: 'orig' })]);
    expect(installed).toMatchObject({ status: 'active', installedAt: 100_000, installedAtInferred: false, originInstanceId: 'orig', appId: 'a' });
    const removed = foldInstallation([ev('AppInstalled', 100), ev('AppRemoved', 200)]);
    expect(removed).toMatchObject({ status: 'removed', installedAt: 100_000, removedAt: 200_000 });
    const reinstalled = foldInstallation([ev('AppInstalled', 100), ev('AppRemoved', 200), ev('AppInstalled', 300)]);
    expect(reinstalled).toMatchObject({ status: 'active', installedAt: 300_000, removedAt: null });
  });

  it('gives the same state for every arrival order of the same events', () => {
    const events = [
      ev('AppInstalled', 100, { originInstanceId: '' }),
      ev('PaidPlanPurchased', 150, { vendorProductId: 'pro', cycle: 'YEARLY' }),
      ev('AppRemoved', 200),
      ev('AppInstalled', 300),
      ev('PaidPlanChanged', 350, { vendorProductId: 'biz', cycle: 'MONTHLY' }),
    ];
    const expected = foldInstallation(events);
    expect(expected).toMatchObject({ status: 'active', installedAt: 300_000, planVendorProductId: 'biz', planCycle: 'MONTHLY' });
    for (const order of permutations(events)) expect(foldInstallation(order)).toEqual(expected);
  });

  it('a late AppRemoved older than a reinstall does not remove; a resent old AppInstalled does not revive', () => {
    expect(foldInstallation([ev('AppInstalled', 300), ev('AppInstalled', 100), ev('AppRemoved', 200)])).toMatchObject({ status: 'active', installedAt: 300_000 });
    expect(foldInstallation([ev('AppRemoved', 200), ev('AppInstalled', 100)])).toMatchObject({ status: 'removed', removedAt: 200_000 });
  });

  it('orders an install before a removal issued in the same second', () => {
    expect(foldInstallation([ev('AppRemoved', 100), ev('AppInstalled', 100)])).toMatchObject({ status: 'removed' });
  });

  it('plan events update the plan; auto-renewal cancellation keeps the product', () => {
    const state = foldInstallation([
      ev('AppInstalled', 1),
      ev('PaidPlanPurchased', 2, { vendorProductId: 'pro', cycle: 'MONTHLY', expiresOn: '2027-01-01T00:00:00Z' }),
      ev('PaidPlanAutoRenewalCancelled', 3, { cancelReason: 'USER_ACTION' }),
    ]);
    expect(state).toMatchObject({ planVendorProductId: 'pro', planCycle: 'MONTHLY', planExpiresOn: '2027-01-01T00:00:00Z', planAutoRenewing: false, planChangedAt: 3000 });
  });

  it('an instance first seen through a plan event is active with an inferred install time, fixed when the install arrives', () => {
    const planOnly = foldInstallation([ev('PaidPlanPurchased', 50, { vendorProductId: 'pro' })]);
    expect(planOnly).toMatchObject({ status: 'active', installedAt: 50_000, installedAtInferred: true, planVendorProductId: 'pro' });
    const withInstall = foldInstallation([ev('PaidPlanPurchased', 50, { vendorProductId: 'pro' }), ev('AppInstalled', 40)]);
    expect(withInstall).toMatchObject({ status: 'active', installedAt: 40_000, installedAtInferred: false, planVendorProductId: 'pro' });
  });

  it('an instance first seen through its removal is removed', () => {
    expect(foldInstallation([ev('AppRemoved', 70)])).toMatchObject({ status: 'removed', installedAt: 70_000, installedAtInferred: true, removedAt: 70_000 });
  });

  it('ignores event types it does not know', () => {
    expect(foldInstallation([ev('InvoiceStatusUpdated', 1)])).toBeNull();
    expect(foldInstallation([ev('AppInstalled', 1), ev('SomethingNew', 2)])).toMatchObject({ status: 'active', lastEventAt: 1000 });
  });
});
