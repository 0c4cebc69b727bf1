import { appInstances, biEvents } from '@wix/app-management';
import { toWixCallError } from './errors.ts';
import type { InstanceClients } from './instance-clients.ts';

/** What the registry keeps of Get App Instance (docs/wix-protocol.md §3); null when Wix leaves it out. */
export interface AppInstanceSummary {
  siteId: string | null;
  siteName: string | null;
  /** Only present once the site is published. */
  siteUrl: string | null;
  appVersion: string | null;
  isFree: boolean | null;
}

/**
 * Sends APP_FINISHED_CONFIGURATION for the instance, which clears its "Setup incomplete" badge
 * in Wix (docs/wix-protocol.md §3). Rejects with a classified WixCallError.
 */
export async function sendFinishedConfiguration(clients: InstanceClients, instanceId: string): Promise<void> {
  try {
    await clients.clientFor(instanceId, { biEvents }).biEvents.sendBiEvent({ eventName: 'APP_FINISHED_CONFIGURATION' });
  } catch (err) {
    throw toWixCallError(`Send BI event for instance ${instanceId}`, err);
  }
}

/** Get App Instance for the instance, reduced to what the registry stores. Rejects with a classified WixCallError. */
export async function getAppInstance(clients: InstanceClients, instanceId: string): Promise<AppInstanceSummary> {
  let answer;
  try {
    answer = await clients.clientFor(instanceId, { appInstances }).appInstances.getAppInstance();
  } catch (err) {
    throw toWixCallError(`Get app instance ${instanceId}`, err);
  }
  const { instance, site } = answer;
  return {
    siteId: site?.siteId ?? null,
    siteName: site?.siteDisplayName ?? null,
    siteUrl: site?.url ?? null,
    appVersion: instance?.appVersion ?? null,
    isFree: instance?.isFree ?? null,
  };
}
