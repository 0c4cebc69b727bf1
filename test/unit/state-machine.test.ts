import { describe, expect, it } from 'vitest';
import { foldInstallation, type EventSource, type HistoryEvent } from '../../src/installations/state-machine.ts';

let n = 0;
const ev = (eventType: string, issuedAtSec: number, data: Record<string, unknown> = {}): HistoryEvent => ({
  eventType,
  issuedAt: issuedAtSec * 1000,
  data,
  tieBreaker: `h${String(++n).padStart(4, '0')}`,
});

/** An event with its arrival order (the delivery id), from Wix or from the registry's own check. */
const arrived = (
  arrival: number,
  eventType: string,
  issuedAtSec: number,
  data: Record<string, unknown> = {},
  source?: EventSource,
): HistoryEvent => ({
  ...ev(eventType, issuedAtSec, data),
  arrival,
  ...(source ? { source } : {}),
});

/** Every permutation of a small list. */
function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe('foldInstallation', () => {
  it('install → active with origin; remove → removed; reinstall → active again with a new installedAt', () => {
    const installed = foldInstallation([ev('AppInstalled', 100, { appId: 'a', originInstanceId: 'orig' })]);
    expect(installed).toMatchObject({
      status: 'active',
      installedAt: 100_000,
      installedAtInferred: false,
      originInstanceId: 'orig',
      appId: 'a',
    });
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
    expect(foldInstallation([ev('AppInstalled', 300), ev('AppInstalled', 100), ev('AppRemoved', 200)])).toMatchObject({
      status: 'active',
      installedAt: 300_000,
    });
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
    expect(state).toMatchObject({
      planVendorProductId: 'pro',
      planCycle: 'MONTHLY',
      planExpiresOn: '2027-01-01T00:00:00Z',
      planAutoRenewing: false,
      planChangedAt: 3000,
    });
  });

  it('an instance first seen through a plan event is active with an inferred install time, fixed when the install arrives', () => {
    const planOnly = foldInstallation([ev('PaidPlanPurchased', 50, { vendorProductId: 'pro' })]);
    expect(planOnly).toMatchObject({ status: 'active', installedAt: 50_000, installedAtInferred: true, planVendorProductId: 'pro' });
    const withInstall = foldInstallation([ev('PaidPlanPurchased', 50, { vendorProductId: 'pro' }), ev('AppInstalled', 40)]);
    expect(withInstall).toMatchObject({ status: 'active', installedAt: 40_000, installedAtInferred: false, planVendorProductId: 'pro' });
  });

  it('an instance first seen through its removal is removed', () => {
    expect(foldInstallation([ev('AppRemoved', 70)])).toMatchObject({
      status: 'removed',
      installedAt: 70_000,
      installedAtInferred: true,
      removedAt: 70_000,
    });
  });

  it('ignores event types it does not know', () => {
    expect(foldInstallation([ev('InvoiceStatusUpdated', 1)])).toBeNull();
    expect(foldInstallation([ev('AppInstalled', 1), ev('SomethingNew', 2)])).toMatchObject({ status: 'active', lastEventAt: 1000 });
  });
});

describe('installation spells', () => {
  it('a late AppInstalled older than the active installation, with no removal between, is the same installation: installedAt does not move', () => {
    const history = [arrived(1, 'AppInstalled', 300), arrived(2, 'AppInstalled', 100)];
    const state = foldInstallation(history);
    expect(state).toMatchObject({ status: 'active', installedAt: 300_000, installedAtInferred: false, configure: true });
    for (const order of permutations(history)) expect(foldInstallation(order)).toEqual(state);
    // Before the late one arrived, the same: nothing visible changed, so nothing is sent again.
    expect(foldInstallation(history.slice(0, 1))).toEqual({ ...state, lastEventAt: 300_000 });
  });

  it('a resend re-signed with a newer iat joins the installation too', () => {
    expect(foldInstallation([arrived(1, 'AppInstalled', 100), arrived(2, 'AppInstalled', 300)])).toMatchObject({
      installedAt: 100_000,
      installedAtInferred: false,
    });
  });

  it('a late removal between two installs splits them: the current installation is the one after it', () => {
    const arrivedFirstEarlier = [arrived(1, 'AppInstalled', 100), arrived(2, 'AppInstalled', 300), arrived(3, 'AppRemoved', 200)];
    expect(foldInstallation(arrivedFirstEarlier)).toMatchObject({ status: 'active', installedAt: 300_000, removedAt: null });
    const arrivedFirstLater = [arrived(1, 'AppInstalled', 300), arrived(2, 'AppInstalled', 100), arrived(3, 'AppRemoved', 200)];
    expect(foldInstallation(arrivedFirstLater)).toMatchObject({ status: 'active', installedAt: 300_000 });
  });

  it('which spells exist, the status and the plan follow iat order whatever the arrival order', () => {
    const events = [
      ev('AppInstalled', 100),
      ev('PaidPlanPurchased', 150, { vendorProductId: 'pro' }),
      ev('AppRemoved', 200),
      ev('AppInstalled', 300),
      ev('AppInstalled', 250),
      ev('AppRemoved', 400),
    ];
    for (const order of permutations(events)) {
      const state = foldInstallation(order.map((e, i) => ({ ...e, arrival: i + 1 })));
      expect(state).toMatchObject({ status: 'removed', removedAt: 400_000, planVendorProductId: 'pro' });
      expect([250_000, 300_000]).toContain(state!.installedAt);
    }
  });

  it('an installation first seen through a plan event is still dated by its AppInstalled when that arrives', () => {
    expect(
      foldInstallation([arrived(1, 'PaidPlanPurchased', 50, { vendorProductId: 'pro' }), arrived(2, 'AppInstalled', 40)]),
    ).toMatchObject({
      installedAt: 40_000,
      installedAtInferred: false,
      configure: true,
    });
  });
});

describe("the registry's own events (reconciliation, import)", () => {
  it('Reconciled.Removed ends the installation at the time of the check', () => {
    expect(foldInstallation([arrived(1, 'AppInstalled', 100), arrived(2, 'Reconciled.Removed', 500, {}, 'reconcile')])).toMatchObject({
      status: 'removed',
      installedAt: 100_000,
      removedAt: 500_000,
    });
  });

  it('a later real webhook (a reinstall) wins over the repair; a webhook older than the check does not undo it', () => {
    const repaired = [arrived(1, 'AppInstalled', 100), arrived(2, 'Reconciled.Removed', 500, {}, 'reconcile')];
    expect(foldInstallation([...repaired, arrived(3, 'AppInstalled', 600)])).toMatchObject({
      status: 'active',
      installedAt: 600_000,
      removedAt: null,
      configure: true,
    });
    expect(foldInstallation([...repaired, arrived(3, 'AppInstalled', 300)])).toMatchObject({ status: 'removed', removedAt: 500_000 });
    expect(foldInstallation([...repaired, arrived(3, 'PaidPlanChanged', 400, { vendorProductId: 'biz' })])).toMatchObject({
      status: 'removed',
    });
    // Wix's own removal, older than the check, dates the removal more exactly.
    expect(foldInstallation([...repaired, arrived(3, 'AppRemoved', 450)])).toMatchObject({ status: 'removed', removedAt: 450_000 });
  });

  it('an imported installation is dated by the check, inferred, and configured only when the import asked', () => {
    expect(foldInstallation([arrived(1, 'Imported.Installed', 500, { configure: false }, 'import')])).toMatchObject({
      status: 'active',
      installedAt: 500_000,
      installedAtInferred: true,
      configure: false,
    });
    expect(foldInstallation([arrived(1, 'Imported.Installed', 500, { configure: true }, 'import')])).toMatchObject({ configure: true });
    expect(foldInstallation([arrived(1, 'Imported.Removed', 500, {}, 'import')])).toMatchObject({
      status: 'removed',
      installedAt: 500_000,
      removedAt: 500_000,
    });
  });

  it('a late AppInstalled older than an import, no removal between, is the same installation: no move, not configured', () => {
    expect(
      foldInstallation([arrived(1, 'Imported.Installed', 500, { configure: false }, 'import'), arrived(2, 'AppInstalled', 100)]),
    ).toMatchObject({
      status: 'active',
      installedAt: 500_000,
      installedAtInferred: true,
      configure: false,
    });
  });

  it('Reconciled.Installed begins a new installation after a removal (a reinstall the webhooks missed), configured', () => {
    const history = [
      arrived(1, 'AppInstalled', 100),
      arrived(2, 'AppRemoved', 200),
      arrived(3, 'Reconciled.Installed', 500, { configure: true }, 'reconcile'),
    ];
    expect(foldInstallation(history)).toMatchObject({ status: 'active', installedAt: 500_000, installedAtInferred: true, configure: true });
    // Its missed AppInstalled arriving later joins it.
    expect(foldInstallation([...history, arrived(4, 'AppInstalled', 300)])).toMatchObject({ status: 'active', installedAt: 500_000 });
  });

  it("a Wix delivery is never read as one of the registry's events, whatever its eventType", () => {
    expect(foldInstallation([arrived(1, 'AppInstalled', 100), arrived(2, 'Reconciled.Removed', 500)])).toMatchObject({ status: 'active' });
    expect(foldInstallation([arrived(1, 'Reconciled.SiteUpdated', 500, {}, 'reconcile')])).toBeNull();
  });
});
