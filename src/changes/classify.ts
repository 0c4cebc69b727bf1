import type { InstallationRecord } from '../installations/model.ts';
import type { ChangeType } from './model.ts';

/**
 * Fields that never make a change on their own: bookkeeping of when the registry wrote or looked,
 * not something that happened to the installation. A site sync that learns nothing new still
 * moves siteSyncedAt; an event that changes nothing else still moves lastEventAt.
 */
const BOOKKEEPING: ReadonlySet<string> = new Set(['updatedAt', 'lastEventAt', 'siteSyncedAt', 'firstSeenAt', 'checkedAt']);
const LIFECYCLE = ['status', 'installedAt', 'installedAtInferred', 'removedAt'] as const;
const PLAN = ['planVendorProductId', 'planCycle', 'planExpiresOn', 'planAutoRenewing', 'planChangedAt'] as const;

/**
 * What kind of change turned `before` (as stored before the transaction script wrote, undefined
 * when the registry did not know the instance) into `after`; null when nothing visible changed.
 * One transition is one change, so when several kinds of field changed the most significant one
 * names it (its `installation` shows all of them):
 * 1. the lifecycle (status, when the installation began or ended, whether that date is inferred):
 *    `installation.installed` or `installation.removed`, by the status after it. A first sighting
 *    is one too, and so is a correction of those dates (an out-of-order removal that reveals a
 *    reinstall; the real AppInstalled of an installation first seen through a plan event);
 * 2. the plan: `installation.plan_changed`;
 * 3. configuredAt: `installation.configured` (Wix accepted APP_FINISHED_CONFIGURATION);
 * 4. anything else (site, app version, free or paid, ids from the webhook): `installation.site_updated`.
 */
export function classifyChange(before: InstallationRecord | undefined, after: InstallationRecord): ChangeType | null {
  const lifecycle = (): ChangeType => (after.status === 'active' ? 'installation.installed' : 'installation.removed');
  if (!before) return lifecycle();
  const differs = (field: keyof InstallationRecord) => before[field] !== after[field];
  if (LIFECYCLE.some(differs)) return lifecycle();
  if (PLAN.some(differs)) return 'installation.plan_changed';
  if (differs('configuredAt')) return 'installation.configured';
  const fields = new Set([...Object.keys(before), ...Object.keys(after)]) as Set<keyof InstallationRecord>;
  for (const field of fields) if (!BOOKKEEPING.has(field) && differs(field)) return 'installation.site_updated';
  return null;
}
