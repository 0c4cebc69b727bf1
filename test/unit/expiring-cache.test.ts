import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.ts';
import { createExpiringCache, type Expiring } from '../../src/wix/expiring-cache.ts';

/** A load the test settles by hand, counting how often the cache started one. */
function controlledLoads<V>() {
  const started: { resolve: (v: Expiring<V>) => void; reject: (e: unknown) => void }[] = [];
  const load = () =>
    new Promise<Expiring<V>>((resolve, reject) => {
      started.push({ resolve, reject });
    });
  return { load, started };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('the expiring cache behind every token cache', () => {
  it('serves a value until staleAt on the injected clock, never from staleAt on', async () => {
    const clock = createManualClock(1_000_000);
    const cache = createExpiringCache<string, string>({ maxEntries: 10, clock });
    let loads = 0;
    const load = async () => ({ value: `v${++loads}`, staleAt: 1_060_000 });
    expect(await cache.get('k', load)).toBe('v1');
    clock.set(1_059_999);
    expect(await cache.get('k', load)).toBe('v1');
    clock.set(1_060_000);
    expect(await cache.get('k', load)).toBe('v2');
    expect(loads).toBe(2);
  });

  it('does not store a value that is already stale when it arrives, but still returns it', async () => {
    const clock = createManualClock(5_000);
    const cache = createExpiringCache<string, string>({ maxEntries: 10, clock });
    let loads = 0;
    const load = async () => ({ value: `v${++loads}`, staleAt: 5_000 });
    expect(await cache.get('k', load)).toBe('v1');
    expect(await cache.get('k', load)).toBe('v2');
    expect(cache.size).toBe(0);
  });

  it('gives every caller of a key the one load in flight', async () => {
    const cache = createExpiringCache<string, string>({ maxEntries: 10, clock: createManualClock() });
    const { load, started } = controlledLoads<string>();
    const waiting = Array.from({ length: 50 }, () => cache.get('k', load));
    const other = cache.get('other', load);
    await settle();
    expect(started).toHaveLength(2);
    started[0]!.resolve({ value: 'shared', staleAt: Number.POSITIVE_INFINITY });
    started[1]!.resolve({ value: 'other', staleAt: Number.POSITIVE_INFINITY });
    expect(new Set(await Promise.all(waiting))).toEqual(new Set(['shared']));
    expect(await other).toBe('other');
  });

  it('rejects every waiting caller when the load fails, stores nothing, and loads again next time', async () => {
    const cache = createExpiringCache<string, string>({ maxEntries: 10, clock: createManualClock() });
    const { load, started } = controlledLoads<string>();
    const a = cache.get('k', load);
    const b = cache.get('k', load);
    await settle();
    started[0]!.reject(new Error('Wix is down'));
    await expect(a).rejects.toThrow('Wix is down');
    await expect(b).rejects.toThrow('Wix is down');
    expect(cache.size).toBe(0);
    const c = cache.get('k', load);
    await settle();
    expect(started).toHaveLength(2);
    started[1]!.resolve({ value: 'back', staleAt: Number.POSITIVE_INFINITY });
    expect(await c).toBe('back');
  });

  it('keeps at most maxEntries, evicting the least recently used', async () => {
    const cache = createExpiringCache<string, string>({ maxEntries: 2, clock: createManualClock() });
    let loads = 0;
    const load = (key: string) => async () => ({ value: `${key}${++loads}`, staleAt: Number.POSITIVE_INFINITY });
    await cache.get('a', load('a'));
    await cache.get('b', load('b'));
    await cache.get('a', load('a')); // a is now the most recently used
    await cache.get('c', load('c')); // evicts b
    expect(cache.size).toBe(2);
    expect(await cache.get('a', load('a'))).toBe('a1');
    expect(await cache.get('b', load('b'))).toBe('b4');
  });

  it('delete drops a stored value only when it matches, and leaves a load in flight alone', async () => {
    const cache = createExpiringCache<string, string>({ maxEntries: 10, clock: createManualClock() });
    await cache.get('k', async () => ({ value: 'old', staleAt: Number.POSITIVE_INFINITY }));
    cache.delete('k', (v) => v === 'something else');
    expect(await cache.get('k', async () => ({ value: 'new', staleAt: Number.POSITIVE_INFINITY }))).toBe('old');
    cache.delete('k', (v) => v === 'old');
    const { load, started } = controlledLoads<string>();
    const pending = cache.get('k', load);
    cache.delete('k');
    const joined = cache.get('k', load);
    await settle();
    expect(started).toHaveLength(1);
    started[0]!.resolve({ value: 'fresh', staleAt: Number.POSITIVE_INFINITY });
    expect([await pending, await joined]).toEqual(['fresh', 'fresh']);
    expect(cache.size).toBe(1);
  });

  it('forget wins over a load in flight: its callers get the result, the cache does not keep it', async () => {
    const cache = createExpiringCache<string, string>({ maxEntries: 10, clock: createManualClock() });
    const { load, started } = controlledLoads<string>();
    const pending = cache.get('k', load);
    await settle();
    cache.forget('k');
    started[0]!.resolve({ value: 'for the removed instance', staleAt: Number.POSITIVE_INFINITY });
    expect(await pending).toBe('for the removed instance');
    expect(cache.size).toBe(0);
    const next = cache.get('k', load);
    await settle();
    expect(started).toHaveLength(2);
    started[1]!.resolve({ value: 'after', staleAt: Number.POSITIVE_INFINITY });
    expect(await next).toBe('after');
  });
});
