import { describe, expect, it } from 'vitest';
import { classifyChange } from '../../src/changes/classify.ts';
import type { InstallationRecord } from '../../src/installations/model.ts';

const base: InstallationRecord = {
  instanceId: 'i',
  appId: 'app',
  status: 'active',
  installedAt: 1_000,
  installedAtInferred: false,
  removedAt: null,
  originInstanceId: null,
  lastEventAt: 1_000,
  firstSeenAt: 1_000,
  updatedAt: 1_000,
  configuredAt: null,
  planVendorProductId: null,
  planCycle: null,
  planExpiresOn: null,
  planAutoRenewing: null,
  planChangedAt: null,
  siteId: null,
  accountId: null,
  siteName: null,
  siteUrl: null,
  appVersion: null,
  isFree: null,
  siteSyncedAt: null,
  checkedAt: null,
};
const row = (changes: Partial<InstallationRecord>): InstallationRecord => ({ ...base, ...changes });

describe('classifyChange: one change per transition, named by what matters most', () => {
  it.each([
    ['first sighting, active', undefined, row({}), 'installation.installed'],
    ['first sighting, removed', undefined, row({ status: 'removed', removedAt: 2_000 }), 'installation.removed'],
    ['removal', row({}), row({ status: 'removed', removedAt: 2_000 }), 'installation.removed'],
    ['reinstall', row({ status: 'removed', removedAt: 2_000 }), row({ installedAt: 3_000 }), 'installation.installed'],
    ['a late removal reveals a reinstall', row({}), row({ installedAt: 3_000 }), 'installation.installed'],
    [
      'the AppInstalled of an inferred installation',
      row({ installedAtInferred: true }),
      row({ installedAt: 500 }),
      'installation.installed',
    ],
    [
      'a removal re-dated by an older one',
      row({ status: 'removed', removedAt: 2_000 }),
      row({ status: 'removed', removedAt: 1_500 }),
      'installation.removed',
    ],
    [
      'a reinstall that also changes the plan',
      row({ status: 'removed' }),
      row({ planVendorProductId: 'premium' }),
      'installation.installed',
    ],
    ['plan purchased', row({}), row({ planVendorProductId: 'premium', planChangedAt: 2_000 }), 'installation.plan_changed'],
    ['auto-renewal cancelled', row({ planAutoRenewing: true }), row({ planAutoRenewing: false }), 'installation.plan_changed'],
    ['configured', row({}), row({ configuredAt: 2_000 }), 'installation.configured'],
    [
      'site synced with news',
      row({}),
      row({ siteName: 'Bakery', siteUrl: 'https://b.example', isFree: true, siteSyncedAt: 2_000 }),
      'installation.site_updated',
    ],
    ['a new app version', row({ appVersion: '1.0' }), row({ appVersion: '1.1' }), 'installation.site_updated'],
    ['site ids from a webhook', row({}), row({ siteId: 's', accountId: 'a' }), 'installation.site_updated'],
  ] as const)('%s → %s', (_, before, after, expected) => {
    expect(classifyChange(before, after)).toBe(expected);
  });

  it.each([
    ['nothing', row({})],
    [
      'only bookkeeping: written again, a newer event, a sync that learned nothing',
      row({ updatedAt: 9_000, lastEventAt: 9_000, siteSyncedAt: 9_000 }),
    ],
  ])('no change when %s moved', (_, after) => {
    expect(classifyChange(row({}), after)).toBeNull();
  });
});
