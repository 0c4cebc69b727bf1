import type { TestRegistry } from '../helpers/registry.ts';

/**
 * A known set of installations for the query tests, built the way production builds them:
 * signed webhooks through the app (install, removal, paid plan), then site fields and is_free
 * written straight to the rows, as the outbox's site sync would.
 */

export const HOUR_SEC = 3600;
export const DAY_SEC = 86_400;
/** 2026-09-01T00:00:00Z, in epoch seconds. */
export const BASE_SEC = Date.UTC(2026, 8, 1) / 1000;
export const NOW_MS = Date.UTC(2026, 10, 1);

export interface SeedSpec {
  instanceId: string;
  installedSec: number;
  removedSec?: number;
  /** A PaidPlanPurchased for this product, an hour after the install. */
  product?: string;
  isFree?: boolean | null;
  siteName?: string | null;
  siteUrl?: string | null;
}

/** Delivers one signed event and checks it was taken. */
export async function deliverEvent(
  t: TestRegistry,
  eventType: string,
  instanceId: string,
  iat: number,
  data: Record<string, unknown> = {},
) {
  // Received a little after it was issued (the signer's tokens expire 3,600,000 s after iat).
  t.clock.set(iat * 1000 + 60_000);
  const res = await t.deliver(await t.signer.sign({ eventType, instanceId, iat, data, accountInfo: { siteId: `site-${instanceId}` } }));
  if (res.status !== 200) throw new Error(`${eventType} ${instanceId}: ${res.status} ${await res.text()}`);
}

export async function seed(t: TestRegistry, specs: SeedSpec[]): Promise<void> {
  for (const spec of specs) {
    await deliverEvent(t, 'AppInstalled', spec.instanceId, spec.installedSec, { appId: 'app', originInstanceId: '' });
    if (spec.product) {
      await deliverEvent(t, 'PaidPlanPurchased', spec.instanceId, spec.installedSec + HOUR_SEC, {
        vendorProductId: spec.product,
        cycle: 'YEARLY',
      });
    }
    if (spec.removedSec !== undefined) await deliverEvent(t, 'AppRemoved', spec.instanceId, spec.removedSec, { appId: 'app' });
    await t.db.run('UPDATE installations SET is_free = ?, site_name = ?, site_url = ? WHERE instance_id = ?', [
      spec.isFree === undefined || spec.isFree === null ? null : Number(spec.isFree),
      spec.siteName ?? null,
      spec.siteUrl ?? null,
      spec.instanceId,
    ]);
  }
  t.clock.set(NOW_MS);
}

/** The rows as stored, read with plain SQL: the oracle the API's answers are checked against. */
export interface StoredRow {
  instance_id: string;
  status: 'active' | 'removed';
  installed_at: number;
  removed_at: number | null;
  updated_at: number;
  plan_vendor_product_id: string | null;
  is_free: number | null;
  site_name: string | null;
  site_url: string | null;
}

export function storedRows(t: TestRegistry): Promise<StoredRow[]> {
  return t.db.query<StoredRow>('SELECT * FROM installations');
}

/**
 * A varied set: installs in groups of three sharing one iat (ties on installedAt), every third
 * one removed (with some removal times shared), paid by product or by is_free, and site names
 * that need escaping.
 */
export function standardSpecs(): SeedSpec[] {
  const specs: SeedSpec[] = [];
  const names = [
    'Bakery 100% Natural',
    'Snake_case Studio',
    'Bob\'s "Best", Bakery',
    'YOGA in the park',
    '=HYPERLINK("http://evil.example")',
    'Line\nbreak',
    'Café Müller',
    null,
  ];
  for (let i = 0; i < 40; i++) {
    const installedSec = BASE_SEC + Math.floor(i / 3) * DAY_SEC + HOUR_SEC;
    const spec: SeedSpec = {
      // Not in installation order, so instance id order differs from time order.
      instanceId: `inst-${String((i * 17) % 40).padStart(2, '0')}`,
      installedSec,
      siteName: names[i % names.length] ?? null,
      siteUrl: i % 5 === 0 ? null : `https://user${i}.wixsite.com/site-${i}`,
      isFree: i % 7 === 0 ? null : i % 4 === 0 ? false : true,
    };
    // Half the removals share one time (ties on removedAt), the others come hours after the install.
    if (i % 3 === 1) spec.removedSec = i % 2 === 0 ? BASE_SEC + 15 * DAY_SEC : installedSec + ((i % 4) + 1) * HOUR_SEC * 5;
    if (i % 6 === 2) spec.product = i % 12 === 2 ? 'premium' : 'business';
    specs.push(spec);
  }
  return specs;
}
