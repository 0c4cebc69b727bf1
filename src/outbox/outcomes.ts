import type { WriteStatements } from '../db/store.ts';
import { recordConfigured, recordSiteSync } from '../installations/writes.ts';
import type { SiteDescription } from '../installations/model.ts';
import type { OutboxJob } from './model.ts';

/** What a job learned from Wix that must be stored with its completion. */
export interface JobEffect {
  site?: SiteDescription;
}

/**
 * Wix accepted a job: it is done, and what it did is recorded in the same transaction, so a job
 * is never done without its effect, nor its effect stored twice. Installations are written by
 * the installations service; the outbox only asks it.
 */
export async function finishJob(tx: WriteStatements, job: Pick<OutboxJob, 'id' | 'kind' | 'instanceId' | 'installationStartedAt'>, effect: JobEffect | null, now: number) {
  await tx.finishJob(job.id, now);
  if (job.kind === 'finished_configuration') await recordConfigured(tx, job.instanceId, job.installationStartedAt, now);
  if (effect?.site) await recordSiteSync(tx, job.instanceId, effect.site, now);
}
