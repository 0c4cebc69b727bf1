import type { Clock } from '../clock.ts';

/** A loaded value and the moment (epoch ms, on the injected clock) from which it is no longer served. */
export interface Expiring<V> {
  value: V;
  staleAt: number;
}

/**
 * The one cache behind every token cache in src/wix/ (access tokens by instance, token-info
 * answers by token):
 * - a value is served while `clock.now() < staleAt`, never from `staleAt` on; the loader decides
 *   `staleAt` (a margin before a token's expiry, a maximum age…);
 * - at most `maxEntries` values; the least recently used goes first;
 * - one load in flight per key, shared by every caller that asks meanwhile; a failed load
 *   rejects for all of them and stores nothing, so the next call loads again;
 * - `forget` wins over a load in flight: its callers still get its result, but it is not stored.
 *
 * Time comes only from the injected clock, so tests move it instead of sleeping. (lru-cache was
 * the alternative: its `ttl` of 0 means "forever", a start time of 0 means "never stale", and it
 * caches `now` on a timer, each of which a token cache would have to guard against.)
 */
export function createExpiringCache<K, V>(options: { maxEntries: number; clock: Clock }) {
  const entries = new Map<K, Expiring<V>>(); // insertion order = least recently used first
  const loading = new Map<K, Promise<V>>();

  function fresh(key: K): Expiring<V> | undefined {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    entries.delete(key);
    if (entry.staleAt <= options.clock.now()) return undefined;
    entries.set(key, entry);
    return entry;
  }

  function store(key: K, entry: Expiring<V>): void {
    entries.delete(key);
    entries.set(key, entry);
    if (entries.size > options.maxEntries) entries.delete(entries.keys().next().value as K);
  }

  return {
    /** The value for `key`: stored and fresh, or from the load in flight, or from `load()` now. */
    get(key: K, load: () => Promise<Expiring<V>>): Promise<V> {
      const hit = fresh(key);
      if (hit) return Promise.resolve(hit.value);
      const inFlight = loading.get(key);
      if (inFlight) return inFlight;
      const pending: Promise<V> = Promise.resolve()
        .then(load)
        .then((loaded) => {
          if (loading.get(key) === pending && loaded.staleAt > options.clock.now()) store(key, loaded);
          return loaded.value;
        })
        .finally(() => {
          if (loading.get(key) === pending) loading.delete(key);
        });
      loading.set(key, pending);
      return pending;
    },

    /** Drops the stored value if `matches` accepts it (all if omitted). A load in flight is kept: it is fresher. */
    delete(key: K, matches: (value: V) => boolean = () => true): void {
      const entry = entries.get(key);
      if (entry !== undefined && matches(entry.value)) entries.delete(key);
    },

    /** Drops the stored value and disowns the load in flight, whose result will not be stored. */
    forget(key: K): void {
      entries.delete(key);
      loading.delete(key);
    },

    /** Values stored (fresh or not yet found stale). */
    get size(): number {
      return entries.size;
    },
  };
}

export type ExpiringCache<K, V> = ReturnType<typeof createExpiringCache<K, V>>;
