import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { installations, type OutboxJobKind, type OutboxJobRow } from '../db/schema/index.ts';
import type { InstanceClients } from '../wix/instance-clients.ts';
import { getAppInstance, sendFinishedConfiguration } from '../wix/instance-calls.ts';

/**
 * Does a job's Wix call; may return a write to commit together with the job's completion (so a
 * job is never done without its effect, nor its effect stored twice). A failed call rejects with
 * a classified WixCallError, so the worker can tell "retry" from "give up".
 */
export type JobHandler = (job: OutboxJobRow) => Promise<(() => void) | void>;

/** The work behind each job kind. Both are safe to repeat. */
export function createJobHandlers(deps: { db: Db; clients: InstanceClients; now: () => number }): Record<OutboxJobKind, JobHandler> {
  return {
    /** Clears the "Setup incomplete" badge of the instance in Wix (docs/wix-protocol.md §3). */
    async finished_configuration(job) {
      await sendFinishedConfiguration(deps.clients, job.instanceId);
    },

    /**
     * Stores what developers query by: site name and URL, app version, free or paid. The plan
     * product and cycle stay owned by the plan webhooks, which are ordered by iat.
     */
    async sync_instance(job) {
      const instance = await getAppInstance(deps.clients, job.instanceId);
      return () =>
        deps.db
          .update(installations)
          .set({
            siteId: instance.siteId ?? undefined,
            siteName: instance.siteName,
            siteUrl: instance.siteUrl,
            appVersion: instance.appVersion,
            isFree: instance.isFree,
            siteSyncedAt: deps.now(),
          })
          .where(eq(installations.instanceId, job.instanceId))
          .run();
    },
  };
}
