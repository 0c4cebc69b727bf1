import type { InstanceClients } from '../wix/instance-clients.ts';
import { getAppInstance, sendFinishedConfiguration } from '../wix/instance-calls.ts';
import type { OutboxJob, WIX_JOB_KINDS } from './model.ts';
import type { JobEffect } from './outcomes.ts';

/**
 * Does a job's Wix call; may return what it learned, to be stored together with the job's
 * completion (so a job is never done without its effect, nor its effect stored twice). A failed
 * call rejects with a classified WixCallError, so the worker can tell "retry" from "give up".
 */
export type JobHandler = (job: OutboxJob) => Promise<JobEffect | void>;

/** The work behind each kind of job that calls Wix. Both are safe to repeat. (push_change: push.ts.) */
export function createJobHandlers(deps: { clients: InstanceClients }): Record<(typeof WIX_JOB_KINDS)[number], JobHandler> {
  return {
    /** Clears the "Setup incomplete" badge of the instance in Wix (docs/wix-protocol.md §3). */
    async finished_configuration(job) {
      await sendFinishedConfiguration(deps.clients, job.instanceId);
    },

    /**
     * Learns what developers query by: site name and URL, app version, free or paid. The plan
     * product and cycle stay owned by the plan webhooks, which are ordered by iat.
     */
    async sync_instance(job) {
      return { site: await getAppInstance(deps.clients, job.instanceId) };
    },
  };
}
