import type { WriteStatements } from '../db/store.ts';
import { recordConfigured, recordSiteSync } from '../installations/writes.ts';
import type { SiteDescription } from '../installations/model.ts';
import type { OutboxJob } from './model.ts';

/** What a job learned from Wix that must be stored with its completion. */
export interface JobEffect {
  site?: SiteDescription;
}

/**
 * A job succeeded (Wix accepted it, or a push endpoint answered 2xx): it is done, and what it did
 * is recorded in the same transaction, so a job is never done without its effect, nor its effect
 * stored twice. Installations are written by the installations service; the outbox only asks it.
 */
export async function finishJob(
  tx: WriteStatements,
  job: Pick<OutboxJob, 'id' | 'kind' | 'instanceId' | 'installationStartedAt'> & { endpoint?: string | null | undefined },
  effect: JobEffect | null,
  now: number,
) {
  await tx.finishJob(job.id, now);
  if (job.kind === 'finished_configuration') await recordConfigured(tx, job.instanceId, job.installationStartedAt, now);
  if (effect?.site) await recordSiteSync(tx, job.instanceId, effect.site, now);
  if (job.endpoint) await tx.recordPushAttempt(job.endpoint, { ok: true }, now);
}

/** An attempt failed and the job will be tried again at `runAfter`. */
export async function retryJob(
  tx: WriteStatements,
  failed: { jobId: number; runAfter: number; error: string; now: number; endpoint?: string | null | undefined },
) {
  await tx.retryJobLater(failed.jobId, failed.runAfter, failed.error, failed.now);
  if (failed.endpoint) await tx.recordPushAttempt(failed.endpoint, { ok: false, error: failed.error }, failed.now);
}

/** An attempt failed and the job gives up (a refusal, or the last attempt): dead, until retried by hand. */
export async function killJob(
  tx: WriteStatements,
  failed: { jobId: number; error: string; now: number; endpoint?: string | null | undefined },
) {
  await tx.killJob(failed.jobId, failed.error, failed.now);
  if (failed.endpoint) await tx.recordPushAttempt(failed.endpoint, { ok: false, error: failed.error }, failed.now);
}
