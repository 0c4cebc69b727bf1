/**
 * The installations of the "at scale" database, independent of any engine or schema: what the
 * registry would hold after receiving their webhooks (each installation's current state and its
 * event history). seed-sqlite.ts writes them into the registry's SQLite schema.
 *
 * Deterministic (a seeded PRNG and a fixed epoch), so a cached database is the same whenever it
 * is built. Shape: 70% active, 30% removed; 1–5 events per installation (3 on average):
 * AppInstalled, then plan events, and AppRemoved last for removed ones; install times spread
 * uniformly over the two years before SEED_EPOCH_MS; a quarter never synced (no site name or
 * URL). Site names are two or three words from a word list drawn with a Zipf distribution
 * (a few words are in very many names, most in few), a rare word now and then, and URLs made
 * of the same words, so a search term can match very many installations or very few.
 */

/** Fixed, so the data is the same whenever it is built. */
export const SEED_EPOCH_MS = Date.UTC(2026, 9, 1);
const DAY_MS = 86_400_000;
const TWO_YEARS_MS = 730 * DAY_MS;
export const SEED_APP_ID = '7f1b3c2e-0d4a-4e5b-9c6d-8e7f6a5b4c3d';

// prettier-ignore
/** Words of small-business site names, most frequent first (Zipf rank order). */
const WORDS = [
  'studio', 'design', 'photo', 'bakery', 'yoga', 'coffee', 'home', 'art', 'shop', 'music',
  'beauty', 'fitness', 'garden', 'kitchen', 'travel', 'wedding', 'green', 'blue', 'golden', 'little',
  'happy', 'wild', 'urban', 'creative', 'dental', 'law', 'clinic', 'salon', 'boutique', 'craft',
  'vintage', 'organic', 'pet', 'dog', 'cat', 'horse', 'surf', 'mountain', 'river', 'ocean',
  'sun', 'moon', 'star', 'rose', 'lotus', 'olive', 'cedar', 'maple', 'oak', 'pine',
  'north', 'south', 'east', 'west', 'city', 'village', 'farm', 'market', 'table', 'bistro',
  'pizza', 'sushi', 'taco', 'burger', 'wine', 'brew', 'tea', 'juice', 'sweet', 'cake',
  'cookie', 'candle', 'soap', 'jewel', 'gem', 'silver', 'ink', 'paper', 'print', 'frame',
  'pixel', 'digital', 'media', 'film', 'video', 'sound', 'piano', 'guitar', 'dance', 'ballet',
  'school', 'academy', 'tutor', 'learn', 'kids', 'baby', 'mama', 'family', 'friends', 'club',
  'sport', 'tennis', 'golf', 'soccer', 'bike', 'run', 'climb', 'hike', 'camp', 'lodge',
  'hotel', 'villa', 'cabin', 'house', 'realty', 'estate', 'build', 'roof', 'plumbing', 'electric',
  'auto', 'car', 'repair', 'clean', 'care', 'health', 'therapy', 'massage', 'spa', 'skin',
  'hair', 'nail', 'lash', 'brow', 'style', 'fashion', 'wear', 'shoe', 'bag', 'hat',
  'flower', 'floral', 'bloom', 'petal', 'leaf', 'tree', 'forest', 'meadow', 'field', 'stone',
  'brick', 'iron', 'copper', 'glass', 'wood', 'clay', 'pottery', 'ceramic', 'textile', 'yarn',
  'knit', 'sew', 'quilt', 'thread', 'needle', 'button', 'ribbon', 'lace', 'velvet', 'linen',
  'coach', 'consulting', 'finance', 'tax', 'account', 'insure', 'legal', 'partner', 'group', 'labs',
  'tech', 'code', 'app', 'web', 'cloud', 'data', 'smart', 'bright', 'clear', 'pure',
  'fresh', 'local', 'global', 'royal', 'noble', 'grand', 'prime', 'true', 'bold', 'brave',
  'lucky', 'cozy', 'tiny', 'big', 'red', 'white', 'black', 'pink', 'purple', 'amber',
  'coral', 'jade', 'ruby', 'pearl', 'ivory', 'honey', 'sugar', 'salt', 'pepper', 'spice',
  'ginger', 'mint', 'basil', 'sage', 'thyme', 'lavender', 'vanilla', 'cocoa', 'berry', 'cherry',
  'lemon', 'lime', 'orange', 'peach', 'plum', 'apple', 'mango', 'kiwi', 'fig', 'melon',
  'harbor', 'bay', 'coast', 'island', 'lake', 'valley', 'hill', 'peak', 'canyon', 'desert',
  'prairie', 'tundra', 'glacier', 'aurora', 'comet', 'nova', 'orbit', 'rocket', 'atlas', 'compass',
  'anchor', 'sail', 'wave', 'tide', 'shell', 'reef', 'dolphin', 'whale', 'otter', 'fox',
  'wolf', 'bear', 'owl', 'hawk', 'eagle', 'robin', 'sparrow', 'swan', 'crane', 'heron',
] as const;

// prettier-ignore
/** Words that appear in about one site name in 100,000: searches with few matches. */
const RARE_WORDS = [
  'zanzibar', 'quixotic', 'marzipan', 'xylophone', 'kumquat', 'juniperus', 'obsidian', 'zephyr', 'yggdrasil', 'quetzal',
] as const;
const RARE_WORD_CHANCE = 0.0001;

const TLDS = ['.com', '.com', '.com', '.com', '.net', '.co.uk', '.de', '.io', '.shop', '.studio'] as const;
const PLAN_SEQUENCE = ['PaidPlanPurchased', 'PaidPlanChanged', 'PaidPlanAutoRenewalCancelled', 'PlanReactivated'] as const;
const CYCLES = ['MONTHLY', 'YEARLY'] as const;
const PRODUCTS = ['basic', 'premium', 'business'] as const;

export interface SeedEvent {
  eventType: string;
  /** iat, epoch ms. */
  issuedAt: number;
  receivedAt: number;
  data: Record<string, unknown>;
  identity: Record<string, unknown>;
  accountInfo: Record<string, unknown>;
}

/** One installation as the registry's state machine would have folded it from `events`. */
export interface SeedInstallation {
  instanceId: string;
  appId: string;
  status: 'active' | 'removed';
  installedAt: number;
  removedAt: number | null;
  originInstanceId: string | null;
  lastEventAt: number;
  firstSeenAt: number;
  updatedAt: number;
  configuredAt: number | null;
  plan: { vendorProductId: string; cycle: string; expiresOn: string; autoRenewing: boolean; changedAt: number } | null;
  siteId: string;
  accountId: string;
  /** Filled by Get App Instance: null for installations never synced. */
  site: { name: string; url: string | null; appVersion: string; isFree: boolean; syncedAt: number } | null;
  /** Oldest first. */
  events: SeedEvent[];
}

export interface SearchTerm {
  /** What kind of term it is, for the report. */
  label: string;
  q: string;
  /** Installations whose site name, site URL or instance id contain q (ASCII case-insensitive). */
  matches: number;
}

export interface SeedSummary {
  installations: number;
  active: number;
  removed: number;
  events: number;
  searchTerms: SearchTerm[];
  /** 1,000 installations spread over the data: ids to get, and (installedAt, id) for deep cursors. */
  sample: { instanceId: string; installedAt: number }[];
}

/** mulberry32: a small seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function uuidFrom(random: () => number): string {
  let hex = '';
  for (let i = 0; i < 4; i++)
    hex += Math.floor(random() * 0x1_0000_0000)
      .toString(16)
      .padStart(8, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[Math.floor(random() * 4)]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Cumulative Zipf weights (exponent 1.07) over WORDS, for a binary search. */
const ZIPF_CUMULATIVE = (() => {
  const out = new Float64Array(WORDS.length);
  let total = 0;
  for (let rank = 0; rank < WORDS.length; rank++) out[rank] = total += 1 / (rank + 1) ** 1.07;
  return out.map((w) => w / total);
})();

function pickWord(random: () => number): string {
  if (random() < RARE_WORD_CHANCE) return RARE_WORDS[Math.floor(random() * RARE_WORDS.length)]!;
  const x = random();
  let lo = 0;
  let hi = ZIPF_CUMULATIVE.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ZIPF_CUMULATIVE[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return WORDS[lo]!;
}

const capitalize = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

function siteNameAndUrl(random: () => number, i: number): { name: string; url: string | null } {
  const words = Array.from({ length: 2 + (random() < 0.4 ? 1 : 0) }, () => pickWord(random));
  const name = words.map(capitalize).join(random() < 0.1 ? ' & ' : ' ');
  // Some sites are not published: no URL yet.
  if (i % 2 === 1 && random() < 0.3) return { name, url: null };
  if (random() < 0.6) {
    // A free Wix site: the account's slug, then the site's path.
    return { name, url: `https://${words[0]}${Math.floor(random() * 10_000)}.wixsite.com/${words.join('-')}` };
  }
  const tld = TLDS[Math.floor(random() * TLDS.length)]!;
  return { name, url: `https://www.${words.join('')}${tld}` };
}

/**
 * Generates `count` installations lazily (a million do not fit comfortably in memory at once);
 * `summary` is complete once the iterator is done.
 */
export function generateInstallations(count: number): { rows: Iterable<SeedInstallation>; summary: SeedSummary } {
  const summary: SeedSummary = { installations: 0, active: 0, removed: 0, events: 0, searchTerms: [], sample: [] };
  const sampleEvery = Math.max(1, Math.floor(count / 1_000));
  function* rows(): Generator<SeedInstallation> {
    const random = prng(20_261_001);
    const terms: SearchTerm[] = [
      { label: 'a common word of site names', q: WORDS[0], matches: 0 },
      { label: 'a rare word of site names', q: RARE_WORDS[0], matches: 0 },
      { label: 'part of a URL', q: '.co.uk', matches: 0 },
    ];
    summary.searchTerms = terms;
    for (let i = 0; i < count; i++) {
      const instanceId = uuidFrom(random);
      const siteId = uuidFrom(random);
      const accountId = uuidFrom(random);
      const userId = uuidFrom(random);
      if (i === 0) terms.push({ label: 'an instance id prefix', q: instanceId.slice(0, 8), matches: 0 });
      const removed = i % 10 === 3 || i % 10 === 6 || i % 10 === 9;
      const eventCount = 1 + (i % 5);
      const installedAt = SEED_EPOCH_MS - TWO_YEARS_MS + Math.floor(random() * TWO_YEARS_MS);
      const origin = i % 50 === 0 ? uuidFrom(random) : null;
      const accountInfo = { accountId, parentAccountId: accountId, siteId };
      const identity = { identityType: 'WIX_USER', wixUserId: userId };
      const events: SeedEvent[] = [];
      let at = installedAt;
      let removedAt: number | null = null;
      let plan: SeedInstallation['plan'] = null;
      for (let e = 0; e < eventCount; e++) {
        let eventType: string;
        let data: Record<string, unknown>;
        if (e === 0) {
          eventType = 'AppInstalled';
          data = { appId: SEED_APP_ID, originInstanceId: origin ?? '' };
        } else if (removed && e === eventCount - 1) {
          eventType = 'AppRemoved';
          data = { appId: SEED_APP_ID };
          removedAt = at;
        } else {
          eventType = PLAN_SEQUENCE[(e - 1) % PLAN_SEQUENCE.length]!;
          const vendorProductId = PRODUCTS[(i + e) % PRODUCTS.length]!;
          const cycle = CYCLES[(i + e) % CYCLES.length]!;
          const expiresOn = new Date(at + (cycle === 'YEARLY' ? 365 : 30) * DAY_MS).toISOString();
          data = { operationTimeStamp: new Date(at).toISOString(), vendorProductId, cycle, expiresOn };
          plan = { vendorProductId, cycle, expiresOn, autoRenewing: eventType !== 'PaidPlanAutoRenewalCancelled', changedAt: at };
        }
        events.push({ eventType, issuedAt: at, receivedAt: at + 150 + Math.floor(random() * 1500), data, identity, accountInfo });
        if (e < eventCount - 1) at += 60_000 + Math.floor(random() * 30 * DAY_MS);
      }
      const firstSeenAt = events[0]!.receivedAt;
      const lastReceived = events[events.length - 1]!.receivedAt;
      const synced = i % 4 !== 0;
      const site = synced
        ? { ...siteNameAndUrl(random, i), appVersion: '1.4.0', isFree: plan === null, syncedAt: firstSeenAt + 2_000 }
        : null;
      for (const term of terms) {
        if (instanceId.includes(term.q) || site?.name.toLowerCase().includes(term.q) || site?.url?.toLowerCase().includes(term.q))
          term.matches++;
      }
      summary.installations++;
      summary[removed ? 'removed' : 'active']++;
      summary.events += events.length;
      if (i % sampleEvery === sampleEvery >> 1 && summary.sample.length < 1_000) summary.sample.push({ instanceId, installedAt });
      yield {
        instanceId,
        appId: SEED_APP_ID,
        status: removed ? 'removed' : 'active',
        installedAt,
        removedAt,
        originInstanceId: origin,
        lastEventAt: at,
        firstSeenAt,
        updatedAt: lastReceived,
        configuredAt: !removed && i % 3 === 0 ? firstSeenAt + 5_000 : null,
        plan,
        siteId,
        accountId,
        site,
        events,
      };
    }
  }
  return { rows: { [Symbol.iterator]: rows }, summary };
}
