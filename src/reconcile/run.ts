/**
 * Checking instances with Wix, safely: the engine behind `import`, `reconcile` and the server's
 * scheduled reconciliation. It asks Wix one instance at a time (at the limiter's pace), decides
 * what Wix's answer means, and records each verdict through the store (recordCheck).
 *
 * **The removal rule** (README, "What reconciliation does and never does"). Wix documents no
 * error for an uninstalled instance, and a wrong app id or secret is refused with a 4xx too
 * (docs/wix-protocol.md §2). So a refusal alone proves nothing about the instance. An instance is
 * recorded as removed only when:
 *   1. Wix refuses a token for it with a 4xx (not 408 or 429), and then
 *   2. Wix issues a token for a *control* instance — the last instance Wix issued a token for in
 *      this run, or else an active installation the registry knows — proving Wix still answers
 *      the app, and then
 *   3. Wix refuses the instance a second time.
 * If the control is refused too, Wix is refusing the app, not the instance: the run stops and
 * changes nothing more. Refusals seen before any control exists are held, unrecorded, until one
 * does (then each is asked again); too many in a row, or none ever confirmed, and the run stops.
 * A 5xx, 429, timeout or network failure is retried (honouring Retry-After) and then stops the
 * run; it never removes anything. Reconciliation (not import, whose old ids are often long gone)
 * also stops when more than `maxRemovedShare` of the instances it checked turned out removed.
 */
import type { Clock } from '../clock.ts';
import type { CheckOutcome, CheckRecord } from '../installations/writes.ts';
import { toWixCallError, type WixCallError } from '../wix/errors.ts';
import type { InstanceChecks } from '../wix/instance-checks.ts';
import type { RateLimiter } from './rate-limiter.ts';

/** A transient failure (5xx, 429, timeout, no answer) is asked again this many times before the run stops. */
export const TRANSIENT_RETRIES = 2;
/** Pause before asking again after a transient failure, doubled each time, unless Wix's Retry-After says longer. */
export const TRANSIENT_RETRY_BASE_MS = 2_000;
/** A Retry-After longer than this stops the run instead of waiting (a CLI run should not hang for an hour). */
export const MAX_RETRY_WAIT_MS = 60_000;
/** Refusals held, with no instance yet given a token to prove Wix answers the app, before the run stops. */
export const MAX_HELD_REFUSALS = 10;
/** Registry installations tried as the control when the run has none of its own yet. */
export const MAX_CONTROL_CANDIDATES = 3;
/** The removed share is judged only once this many instances were checked. */
export const REMOVED_SHARE_MIN_CHECKED = 20;

export interface RunCounts {
  /** Instances Wix gave a verdict on. */
  checked: number;
  /** ...of which installed (import: new active installations; reconcile: confirmed active). */
  active: number;
  /** ...of which removed (recorded removed by this run). */
  removed: number;
  /** Active installations whose site data this run refreshed. */
  updated: number;
  /** Installations the registry had as removed that Wix says are installed (a missed reinstall). */
  reinstated: number;
  /** Instances this run could not decide (it stopped, or their refusal was never confirmed). */
  failed: number;
  /** Instances the registry already knew (import). */
  skipped: number;
}

export interface RunSummary extends RunCounts {
  /** Why the run stopped early, for safety; null when it went through. */
  stopped: string | null;
}

export interface CheckRunOptions {
  source: 'reconcile' | 'import';
  checks: InstanceChecks;
  limiter: RateLimiter;
  clock: Clock;
  /** Records one verdict (the store's recordCheck command). */
  record(check: CheckRecord): Promise<CheckOutcome>;
  /** Active installations the registry knows, most recently heard from first, not in `exclude`: control candidates. */
  controlCandidates(exclude: ReadonlySet<string>): Promise<string[]>;
  /** Import: skip instances the registry already knows, before asking Wix. */
  isKnown?(instanceId: string): Promise<boolean>;
  /** Import --configure. */
  configure?: boolean;
  /** Reconcile: stop when more than this share of the checked instances turned out removed (0–1). */
  maxRemovedShare?: number | undefined;
  /** After each instance. */
  onProgress?(counts: RunCounts): void;
  /** Stops between instances (server shutdown). */
  signal?: AbortSignal;
}

class StopRun extends Error {}

type TokenVerdict = 'issued' | 'refused';

/** A refusal that can be about the instance: a 4xx Wix answered, other than a timeout or rate limit. */
function isRefusal(error: WixCallError): boolean {
  return error.kind === 'refused' && error.details.status !== 408 && error.details.status !== 429;
}

/** Checks each instance in turn; resolves with the counts and, if it stopped early, why. Never throws for Wix's failures. */
export async function checkInstances(ids: AsyncIterable<string> | Iterable<string>, options: CheckRunOptions): Promise<RunSummary> {
  const { checks, limiter, clock, source } = options;
  const counts: RunCounts = { checked: 0, active: 0, removed: 0, updated: 0, reinstated: 0, failed: 0, skipped: 0 };
  let control: string | null = null;
  const held: string[] = [];
  const triedCandidates = new Set<string>();

  /** One question to Wix, asked again after a transient failure; throws StopRun when Wix keeps failing. */
  async function ask<T>(what: string, call: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: WixCallError }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return { ok: true, value: await call() };
      } catch (thrown) {
        const error = toWixCallError(what, thrown);
        if (isRefusal(error)) return { ok: false, error };
        if (attempt >= TRANSIENT_RETRIES)
          throw new StopRun(`Wix is not answering (${error.message}); nothing was changed for the instances not yet checked`);
        const waitMs = Math.max(error.details.retryAfterMs ?? 0, TRANSIENT_RETRY_BASE_MS * 2 ** attempt);
        if (waitMs > MAX_RETRY_WAIT_MS)
          throw new StopRun(`Wix asks to wait ${Math.round(waitMs / 1000)} s (${error.message}); run again later`);
        limiter.holdUntil(clock.now() + waitMs);
      }
    }
  }

  const token = async (instanceId: string): Promise<TokenVerdict> =>
    (await ask(`Token for ${instanceId}`, () => checks.requestToken(instanceId))).ok ? 'issued' : 'refused';

  async function recordInstalled(instanceId: string): Promise<void> {
    const described = await ask(`Get app instance ${instanceId}`, () => checks.describe(instanceId));
    // A refusal here, right after a token, is about the call, not the installation: the outbox syncs the site later.
    const site = described.ok ? described.value : null;
    const outcome = await options.record({
      instanceId,
      source,
      checkedAt: clock.now(),
      verdict: { kind: 'installed', site },
      configure: options.configure,
      onlyIfUnknown: source === 'import',
    });
    if (outcome.effect === 'skipped') {
      counts.skipped++;
      return;
    }
    counts.checked++;
    counts.active++;
    if (outcome.effect === 'updated') counts.updated++;
    if (outcome.effect === 'installed' && source === 'reconcile') counts.reinstated++;
  }

  async function recordRemoved(instanceId: string): Promise<void> {
    const outcome = await options.record({
      instanceId,
      source,
      checkedAt: clock.now(),
      verdict: { kind: 'removed' },
      onlyIfUnknown: source === 'import',
    });
    if (outcome.effect === 'skipped') {
      counts.skipped++;
      return;
    }
    counts.checked++;
    if (outcome.effect === 'removed') counts.removed++;
  }

  /** Why the run must stop after the instance just done: too many removals to be believed. */
  function tooManyRemovals(): string | null {
    const share = options.maxRemovedShare;
    if (share === undefined || counts.checked < REMOVED_SHARE_MIN_CHECKED || counts.removed / counts.checked <= share) return null;
    return `${counts.removed} of the ${counts.checked} installations checked turned out removed, more than the ${Math.round(share * 100)} % this run allows (RECONCILE_MAX_REMOVED_SHARE); check Wix's answers before running again`;
  }

  /** An instance Wix issued a token for just now, to tell "Wix refuses this instance" from "Wix refuses us". */
  async function provenControl(refused: string): Promise<string | null> {
    if (control !== null && control !== refused) {
      if ((await token(control)) === 'issued') return control;
      throw new StopRun(
        `Wix refused a token for ${refused}, then for ${control}, which it had issued one for earlier in this run: it is refusing the app, not the instance (wrong WIX_APP_ID or WIX_APP_SECRET?); nothing more was changed`,
      );
    }
    const excluded = new Set([...held, refused, ...triedCandidates]);
    for (const candidate of (await options.controlCandidates(excluded)).slice(
      0,
      Math.max(0, MAX_CONTROL_CANDIDATES - triedCandidates.size),
    )) {
      triedCandidates.add(candidate);
      if ((await token(candidate)) === 'issued') return (control = candidate);
    }
    return null;
  }

  async function onRefusal(instanceId: string): Promise<void> {
    const proven = await provenControl(instanceId);
    if (proven === null) {
      held.push(instanceId);
      if (held.length >= MAX_HELD_REFUSALS) {
        throw new StopRun(
          `Wix refused tokens for ${held.length} instances and issued none, to these or to any installation the registry knows: it looks like Wix is refusing the app (wrong WIX_APP_ID or WIX_APP_SECRET?); nothing was changed`,
        );
      }
      return;
    }
    // Refused, the control answered, refused again: this instance is refused, not the app.
    if ((await token(instanceId)) === 'issued') {
      control = instanceId;
      await recordInstalled(instanceId);
    } else {
      await recordRemoved(instanceId);
    }
  }

  /** A control was just proven: the refusals held until now are asked once more. */
  async function settleHeld(): Promise<void> {
    while (held.length > 0) {
      const instanceId = held[0]!;
      if ((await token(instanceId)) === 'issued') await recordInstalled(instanceId);
      else await recordRemoved(instanceId);
      held.shift();
    }
  }

  let stopped: string | null = null;
  for await (const instanceId of ids) {
    if (options.signal?.aborted) {
      stopped = 'stopped: the process is shutting down';
      break;
    }
    try {
      if (options.isKnown && (await options.isKnown(instanceId))) {
        counts.skipped++;
      } else if ((await token(instanceId)) === 'issued') {
        control = instanceId;
        await settleHeld();
        await recordInstalled(instanceId);
      } else {
        await onRefusal(instanceId);
      }
    } catch (error) {
      if (!(error instanceof StopRun)) throw error;
      stopped = error.message;
      // The instance in hand and every refusal still held: no verdict.
      counts.failed += 1 + held.filter((id) => id !== instanceId).length;
      held.length = 0;
      break;
    } finally {
      options.onProgress?.({ ...counts });
    }
    stopped = tooManyRemovals();
    if (stopped !== null) break;
  }
  if (stopped === null && held.length > 0) {
    stopped = `Wix refused tokens for ${held.length} instance(s) and issued none in this run, nor for any installation the registry knows to be active: a removal cannot be told from Wix refusing the app (wrong WIX_APP_ID or WIX_APP_SECRET?), so nothing was recorded for them`;
    counts.failed += held.length;
  }
  return { ...counts, stopped };
}
