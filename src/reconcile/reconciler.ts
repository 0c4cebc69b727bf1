import type { Clock } from '../clock.ts';
import type { RegistryStore } from '../db/store.ts';
import type { InstallationRecord } from '../installations/model.ts';
import type { CheckRecord } from '../installations/writes.ts';
import type { Position } from '../installations/query-schemas.ts';
import { createInstanceChecks, type InstanceChecks } from '../wix/instance-checks.ts';
import { createRateLimiter, rateLimitedFetch, realSleep, type RateLimiter } from './rate-limiter.ts';
import { checkInstances, type RunCounts, type RunSummary } from './run.ts';

/** Rows read per page when walking the active installations. */
export const WALK_PAGE_ROWS = 500;
/** Installations looked at as control candidates (the most recently updated active ones). */
const CONTROL_CANDIDATE_ROWS = 10;

export interface ReconcilerOptions {
  store: RegistryStore;
  clock: Clock;
  /** The app's credentials and where Wix is (the sandbox: its fake Wix). */
  wix: { appId: string; appSecret: string; wixApiBaseUrl: string };
  /** Most calls to Wix per second. */
  ratePerSec: number;
  /** Reconcile runs stop past this share of removals (0–1). */
  maxRemovedShare: number;
  sleep?: (ms: number) => Promise<void>;
  /** Bound on each call to Wix (default WIX_REQUEST_TIMEOUT_MS). */
  timeoutMs?: number;
  /** The HTTP client under the calls (default: the global fetch). */
  fetch?: typeof fetch;
  /** Replaces the calls to Wix themselves (tests count them); still paced by the limiter. */
  checks?: InstanceChecks;
}

export interface ImportSummary extends RunSummary {
  /** Ids in the file that were new to the registry, whatever Wix said of them. */
  imported: number;
}

/**
 * Import and reconciliation over one store, at one rate: what the CLI commands and the server's
 * schedule run. Every call to Wix waits its turn with one limiter.
 */
export function createReconciler(options: ReconcilerOptions) {
  const { store, clock } = options;
  const sleep = options.sleep ?? realSleep;
  const limiter: RateLimiter = createRateLimiter({ ratePerSec: options.ratePerSec, clock, sleep });
  const checks: InstanceChecks = options.checks
    ? {
        requestToken: async (id) => (await limiter.take(), options.checks!.requestToken(id)),
        describe: async (id) => (await limiter.take(), options.checks!.describe(id)),
      }
    : createInstanceChecks({
        ...options.wix,
        clock,
        // Every HTTP call, a retried one included, takes its turn.
        fetch: rateLimitedFetch(limiter, options.fetch),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      });
  const base = {
    checks,
    limiter,
    clock,
    record: (check: CheckRecord) => store.write({ kind: 'recordCheck', check, now: clock.now() }),
    async controlCandidates(exclude: ReadonlySet<string>) {
      const page = await store.installations.page({
        status: 'active',
        sort: 'updatedAt',
        order: 'desc',
        limit: CONTROL_CANDIDATE_ROWS,
        after: null,
      });
      return page.rows.map((row) => row.instanceId).filter((id) => !exclude.has(id));
    },
  };

  return {
    limiter,

    /**
     * `wix-registry import`: each id the registry does not know is checked with Wix and recorded
     * active (with its site) or removed; known ids are skipped, so a second run changes nothing.
     */
    async importIds(
      ids: readonly string[],
      run: { configure?: boolean; onProgress?: (counts: RunCounts) => void; signal?: AbortSignal } = {},
    ): Promise<ImportSummary> {
      const fresh: string[] = [];
      let known = 0;
      for (const id of ids) {
        if ((await store.installations.status(id)) === undefined) fresh.push(id);
        else known++;
      }
      const summary = await checkInstances(fresh, {
        ...base,
        source: 'import',
        configure: run.configure ?? false,
        ...(run.onProgress ? { onProgress: (counts: RunCounts) => run.onProgress!({ ...counts, skipped: counts.skipped + known }) } : {}),
        ...(run.signal ? { signal: run.signal } : {}),
      });
      // Ids the run never reached (it stopped) are new too, and failed: nothing was recorded for them.
      const unreached = fresh.length - summary.checked - summary.failed - summary.skipped;
      return { ...summary, failed: summary.failed + unreached, skipped: summary.skipped + known, imported: fresh.length - summary.skipped };
    },

    /** `wix-registry reconcile`, and each slice of the schedule: checks the given installations. */
    reconcile(
      ids: AsyncIterable<string> | Iterable<string>,
      run: { onProgress?: (counts: RunCounts) => void; signal?: AbortSignal } = {},
    ): Promise<RunSummary> {
      return checkInstances(ids, {
        ...base,
        source: 'reconcile',
        maxRemovedShare: options.maxRemovedShare,
        ...(run.onProgress ? { onProgress: run.onProgress } : {}),
        ...(run.signal ? { signal: run.signal } : {}),
      });
    },

    /** Every active installation, oldest install first, a page at a time (keyset: each exactly once, even while webhooks arrive). */
    async *activeIds(): AsyncGenerator<string> {
      let after: Position | null = null;
      do {
        const page = await store.installations.page({ status: 'active', sort: 'installedAt', order: 'asc', limit: WALK_PAGE_ROWS, after });
        for (const row of page.rows) yield row.instanceId;
        after = page.next;
      } while (after);
    },

    /** A page of the walk the schedule makes, with each row's position. */
    async walkPage(after: Position | null, limit: number): Promise<{ rows: InstallationRecord[]; next: Position | null }> {
      return store.installations.page({ status: 'active', sort: 'installedAt', order: 'asc', limit, after });
    },
  };
}

export type Reconciler = ReturnType<typeof createReconciler>;

/** Where a walk stands after a row (sort=installedAt): the position page() continues from. */
export const positionAfter = (row: InstallationRecord): Position => ({ key: row.installedAt, instanceId: row.instanceId });
