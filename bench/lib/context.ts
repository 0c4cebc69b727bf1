/** What every section gets: the settings, the report, the engine, the keys and the fake Wix. */
import type { FakeWix } from '../../src/sandbox/fake-wix.ts';
import type { BenchEngine } from './engines.ts';
import type { Pinning } from './pinning.ts';
import type { Report } from './report.ts';
import type { Settings } from './settings.ts';
import type { SignedDelivery, SigningKey } from './webhooks.ts';

export interface Context {
  settings: Settings;
  report: Report;
  /** Every engine of the run, in order (ingest and tokens show them side by side). */
  engines: BenchEngine[];
  /** The engine a per-engine section (queries, interference, soak, retention) runs on now. */
  engine: BenchEngine;
  pinning: Pinning;
  key: SigningKey;
  appId: string;
  appSecret: string;
  apiKey: string;
  /** Served by this orchestrator: the registry's WIX_API_BASE_URL. */
  fakeWix: FakeWix;
  fakeWixUrl: string;
  /** Unique signed AppInstalled deliveries (each sent at most once into one database). */
  pool: SignedDelivery[];
  /** Every pool body, one per line, for the load generator. */
  poolFile: string;
  /** A temp dir for throw-away databases, removed on exit. */
  work: string;
}

export const authHeaders = (ctx: Context) => ({ authorization: `Bearer ${ctx.apiKey}` });

/** The fake Wix records every call; keep its memory flat between runs. */
export function resetFakeWixCalls(ctx: Context): void {
  ctx.fakeWix.calls.splice(0, ctx.fakeWix.calls.length);
}

/** POSTs signed deliveries with `concurrency` in flight; returns how many were not answered 200. */
export async function postDeliveries(url: string, deliveries: readonly SignedDelivery[], concurrency = 50): Promise<number> {
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < deliveries.length) {
        const delivery = deliveries[next++]!;
        const res = await fetch(`${url}/webhooks/wix`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: delivery.jwt });
        await res.arrayBuffer();
        if (res.status !== 200) failed++;
      }
    }),
  );
  return failed;
}
