import { tierAtLeast } from './delay-tier.js';

describe('tierAtLeast', () => {
  it.each([
    [0, 1000],
    [1000, 1000],
    [1001, 10_000],
    [10_000, 10_000],
    [59_999, 60_000],
    [600_000, 60_000],
  ])('maps %i ms onto tiers [1s, 10s, 60s] as %i ms', (delay, tier) => {
    expect(tierAtLeast([1000, 10_000, 60_000], delay)).toBe(tier);
  });
});
