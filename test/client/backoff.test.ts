import { describe, expect, it } from 'vitest';
import { CHANGES_RETRY_BASE_MS, CHANGES_RETRY_CAP_MS, RETRY_AFTER_LIMIT_MS, retryDelayMs } from '../../client/src/index.ts';

const policy = { baseMs: CHANGES_RETRY_BASE_MS, capMs: CHANGES_RETRY_CAP_MS };

describe("the follower's backoff", () => {
  it('defaults to 1 s doubling up to 60 s', () => {
    expect([CHANGES_RETRY_BASE_MS, CHANGES_RETRY_CAP_MS]).toEqual([1_000, 60_000]);
    // With no jitter drawn (random() = 1), the full exponential.
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => retryDelayMs(n, policy, undefined, () => 1))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]);
  });

  it('jitters the second half of each wait', () => {
    expect(retryDelayMs(3, policy, undefined, () => 0)).toBe(2_000);
    expect(retryDelayMs(3, policy, undefined, () => 0.5)).toBe(3_000);
    for (let i = 0; i < 200; i++) {
      const delay = retryDelayMs(3, policy);
      expect(delay).toBeGreaterThanOrEqual(2_000);
      expect(delay).toBeLessThanOrEqual(4_000);
    }
  });

  it('waits no less than Retry-After, even past the cap, up to 10 minutes', () => {
    expect(retryDelayMs(1, policy, 30_000, () => 0)).toBe(30_000);
    expect(retryDelayMs(1, policy, 120_000, () => 0)).toBe(120_000);
    expect(retryDelayMs(1, policy, 86_400_000, () => 0)).toBe(RETRY_AFTER_LIMIT_MS);
    expect(RETRY_AFTER_LIMIT_MS).toBe(600_000);
    // A short Retry-After does not shorten the backoff.
    expect(retryDelayMs(5, policy, 1_000, () => 1)).toBe(16_000);
  });
});
