import { appInstances, biEvents } from '@wix/app-management';
import type { InstanceClients } from '../wix/instance-clients.ts';
import { WixCallError } from '../wix/errors.ts';
import type { OutboxJobKind, OutboxJob } from './model.ts';
import type { JobEffect } from './outcomes.ts';

/**
 * Does a job's Wix call; may return what it learned, to be stored together with the job's
 * completion (so a job is never done without its effect, nor its effect stored twice).
 */
export type JobHandler = (job: OutboxJob) => Promise<JobEffect | void>;

/**
 * Runs `call` with a fresh per-instance client and turns whatever went wrong into a classified
 * WixCallError, so the worker can tell "retry" from "give up".
 */
async function callWix<M extends Record<string, unknown>, R>(
  clients: InstanceClients,
  instanceId: string,
  modules: M,
  call: (client: ReturnType<InstanceClients['connect']>['client']) => Promise<R>,
): Promise<R> {
  const connection = clients.connect(instanceId, modules as never);
  try {
    return await call(connection.client);
  } catch (err) {
    throw (
      connection.lastFailure() ?? (err instanceof WixCallError ? err : new WixCallError('unavailable', `Wix call failed: ${(err as Error)?.message ?? err}`))
    );
  }
}

/** The work behind each job kind. Both are safe to repeat. */
export function createJobHandlers(deps: { clients: InstanceClients }): Record<OutboxJobKind, JobHandler> {
  return {
    /** Clears the "Setup incomplete" badge of the instance in Wix (wix-protocol.md §3). */
    async finished_configuration(job) {
      await callWix(deps.clients, job.instanceId, { biEvents }, (client) =>
        (client as unknown as { biEvents: typeof biEvents }).biEvents.sendBiEvent({ eventName: 'APP_FINISHED_CONFIGURATION' as never }),
      );
    },

    /**
     * Learns what developers query by: site name and URL, app version, free or paid. The plan
     * product and cycle stay owned by the plan webhooks, which are ordered by iat.
     */
    async sync_instance(job) {
      const answer = await callWix(deps.clients, job.instanceId, { appInstances }, (client) =>
        (client as unknown as { appInstances: typeof appInstances }).appInstances.getAppInstance(),
      );
      return {
        site: {
          siteId: answer.site?.siteId ?? null,
          siteName: answer.site?.siteDisplayName ?? null,
          siteUrl: answer.site?.url ?? null,
          appVersion: answer.instance?.appVersion ?? null,
          isFree: answer.instance?.isFree ?? null,
        },
      };
    },
  };
}
