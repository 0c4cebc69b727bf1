import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, retryDelayMs } from '../../src/outbox/backoff.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** The README's promise: from 5 s, doubling, never more than 30 minutes apart. */
const PROMISED = [5, 10, 20, 40, 80, 160, 320, 640, 1_280].map((s) => s * SECOND);
/** The full delay (before jitter) after `attempts` failed attempts, as the README states it. */
const promisedFull = (attempts: number) => PROMISED[attempts - 1] ?? 30 * MINUTE;

const LOWEST = () => 0;
const HIGHEST = () => 1 - Number.EPSILON;

describe('the outbox retry schedule (defaults)', () => {
  it('is 5 s, doubling, 30 minutes at most, 15 attempts', () => {
    expect(DEFAULT_BACKOFF).toEqual({ baseMs: 5 * SECOND, capMs: 30 * MINUTE, maxAttempts: 15 });
  });

  it('doubles from 5 s up to the 30-minute cap, where it stays', () => {
    const highest = Array.from({ length: 20 }, (_, i) => retryDelayMs(i + 1, DEFAULT_BACKOFF, undefined, HIGHEST));
    expect(highest).toEqual(Array.from({ length: 20 }, (_, i) => promisedFull(i + 1)));
    // 5 s × 2^9 = 42 min would be the tenth: the cap takes over there.
    expect(retryDelayMs(10, DEFAULT_BACKOFF, undefined, HIGHEST)).toBe(30 * MINUTE);
    expect(retryDelayMs(1_000, DEFAULT_BACKOFF, undefined, HIGHEST)).toBe(30 * MINUTE);
  });

  it('jitters each delay between half and all of it ("equal jitter"), so retries after an outage spread out', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempts, r) => {
        const full = promisedFull(attempts);
        const delay = retryDelayMs(attempts, DEFAULT_BACKOFF, undefined, () => r);
        expect(delay).toBeGreaterThanOrEqual(full / 2);
        expect(delay).toBeLessThanOrEqual(full);
      }),
    );
    expect(retryDelayMs(1, DEFAULT_BACKOFF, undefined, LOWEST)).toBe(2_500);
    expect(retryDelayMs(1, DEFAULT_BACKOFF, undefined, () => 0.5)).toBe(3_750);
    expect(retryDelayMs(12, DEFAULT_BACKOFF, undefined, LOWEST)).toBe(15 * MINUTE);
  });

  it('honours Retry-After when it asks for longer than the schedule, never past the cap', () => {
    // Longer than the jittered delay: Retry-After wins.
    expect(retryDelayMs(1, DEFAULT_BACKOFF, 60 * SECOND, HIGHEST)).toBe(60 * SECOND);
    // Shorter: the schedule wins (a 429 never brings a retry forward).
    expect(retryDelayMs(5, DEFAULT_BACKOFF, 1 * SECOND, LOWEST)).toBe(40 * SECOND);
    // Longer than the cap: the cap.
    expect(retryDelayMs(1, DEFAULT_BACKOFF, 2 * HOUR, LOWEST)).toBe(30 * MINUTE);
    expect(retryDelayMs(1, DEFAULT_BACKOFF, 30 * MINUTE + 1, LOWEST)).toBe(30 * MINUTE);
  });

  it('gives a job between 1.6 and 3.2 hours between its first and its 15th (last) attempt', () => {
    const span = (random: () => number) =>
      Array.from({ length: DEFAULT_BACKOFF.maxAttempts - 1 }, (_, i) => retryDelayMs(i + 1, DEFAULT_BACKOFF, undefined, random)).reduce(
        (a, b) => a + b,
      );
    expect(span(LOWEST)).toBe(5_777_500); // 1 h 36 min
    expect(span(HIGHEST)).toBe(11_555_000); // 3 h 12 min
  });
});
