import { ConfigurationError } from '../errors/configuration.error.js';
import { DEFAULT_RETRY_OPTIONS, RetryPolicy, type RetryOptions } from './retry.policy.js';

/** A policy whose random source always returns `value`. */
const withRandom = (value: number, options: RetryOptions = {}): RetryPolicy => new RetryPolicy(options, () => value);
/** A policy without jitter, so delays are exact. */
const exact = (options: RetryOptions = {}): RetryPolicy => new RetryPolicy({ jitter: 0, ...options });

describe('RetryPolicy', () => {
  it('bounds the retry horizon by every retry waiting the largest tier', () => {
    expect(new RetryPolicy().horizonMs()).toBe(4 * 60_000);
    expect(new RetryPolicy({ maxAttempts: 1 }).horizonMs()).toBe(0);
    expect(new RetryPolicy({ maxAttempts: 3, tiersMs: [50, 200] }).horizonMs()).toBe(400);
  });

  it('has safe defaults', () => {
    expect(DEFAULT_RETRY_OPTIONS).toEqual({
      maxAttempts: 5,
      initialDelayMs: 1000,
      multiplier: 10,
      maxDelayMs: 60_000,
      jitter: 0.2,
      tiersMs: [1000, 10_000, 60_000],
    });
    expect(new RetryPolicy().options).toEqual(DEFAULT_RETRY_OPTIONS);
  });

  it('treats options explicitly set to undefined as defaults', () => {
    const policy = new RetryPolicy({ maxAttempts: undefined, tiersMs: undefined, jitter: 0 });
    expect(policy.options.maxAttempts).toBe(DEFAULT_RETRY_OPTIONS.maxAttempts);
    expect(policy.options.tiersMs).toEqual(DEFAULT_RETRY_OPTIONS.tiersMs);
    expect(policy.options.jitter).toBe(0);
  });

  it('merges given options over the defaults and copies the tiers', () => {
    const tiers = [100, 200];
    const policy = new RetryPolicy({ maxAttempts: 2, tiersMs: tiers });
    expect(policy.options).toEqual({ ...DEFAULT_RETRY_OPTIONS, maxAttempts: 2, tiersMs: [100, 200] });
    expect(policy.options.tiersMs).not.toBe(tiers);
  });

  describe('validation', () => {
    it.each<[keyof RetryOptions, unknown]>([
      ['maxAttempts', 0],
      ['maxAttempts', -1],
      ['maxAttempts', 2.5],
      ['maxAttempts', Number.NaN],
      ['initialDelayMs', -1],
      ['initialDelayMs', Number.NaN],
      ['multiplier', 0.5],
      ['multiplier', 0],
      ['multiplier', Number.NaN],
      ['maxDelayMs', 999],
      ['maxDelayMs', Number.NaN],
      ['jitter', -0.1],
      ['jitter', 1],
      ['jitter', Number.NaN],
      ['tiersMs', []],
      ['tiersMs', [0, 10]],
      ['tiersMs', [-5]],
      ['tiersMs', [10, 5]],
      ['tiersMs', [10, 10]],
      ['tiersMs', [1.5]],
    ])('refuses %s = %p', (option, value) => {
      let thrown: unknown;
      try {
        new RetryPolicy({ [option]: value } as RetryOptions);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigurationError);
      const error = thrown as ConfigurationError;
      expect(error.code).toBe('TIDINGS_INVALID_CONFIGURATION');
      expect(error.message).toMatch(new RegExp(`^Invalid retry option ${option}: `));
      expect(error.context).toEqual({ option, value });
      expect(error.hint).toMatch(new RegExp(`^${option} must be `));
    });

    it('accepts the edges of each range', () => {
      expect(
        () => new RetryPolicy({ maxAttempts: 1, initialDelayMs: 0, multiplier: 1, maxDelayMs: 0, jitter: 0, tiersMs: [1] }),
      ).not.toThrow();
      expect(() => new RetryPolicy({ initialDelayMs: 5000, maxDelayMs: 5000, jitter: 0.99 })).not.toThrow();
    });
  });

  describe('decide', () => {
    it('retries until attempt reaches maxAttempts', () => {
      const policy = exact({ maxAttempts: 3 });
      expect(policy.decide(1)).toEqual({ retry: true, delayMs: 1000 });
      expect(policy.decide(2)).toEqual({ retry: true, delayMs: 10_000 });
      expect(policy.decide(3)).toEqual({ retry: false });
      expect(policy.decide(4)).toEqual({ retry: false });
    });

    it('answers the largest tier when the delay is unbounded (maxDelayMs: Infinity)', () => {
      const policy = exact({ maxDelayMs: Number.POSITIVE_INFINITY, multiplier: 1e200, maxAttempts: 10 });
      expect(policy.backoff(3)).toBe(Number.POSITIVE_INFINITY);
      expect(policy.decide(3)).toEqual({ retry: true, delayMs: 60_000 });
    });

    it('never retries with maxAttempts 1', () => {
      expect(exact({ maxAttempts: 1 }).decide(1)).toEqual({ retry: false });
    });

    it('follows the default schedule: 1s, 10s, then 60s', () => {
      const policy = exact();
      expect([1, 2, 3, 4, 5].map((a) => policy.decide(a))).toEqual([
        { retry: true, delayMs: 1000 },
        { retry: true, delayMs: 10_000 },
        { retry: true, delayMs: 60_000 },
        { retry: true, delayMs: 60_000 },
        { retry: false },
      ]);
    });

    it('always answers with one of the tiers', () => {
      const tiers = [10, 50];
      const policy = new RetryPolicy({ initialDelayMs: 5, multiplier: 3, maxDelayMs: 200, tiersMs: tiers, maxAttempts: 10 }, () => 0.999);
      for (let attempt = 1; attempt < 10; attempt++) {
        const decision = policy.decide(attempt);
        expect(decision.retry).toBe(true);
        if (decision.retry) expect(tiers).toContain(decision.delayMs);
      }
    });
  });

  describe('backoff', () => {
    it('grows by the multiplier from the initial delay', () => {
      const policy = exact({ initialDelayMs: 100, multiplier: 3, maxDelayMs: 100_000 });
      expect([1, 2, 3, 4].map((a) => policy.backoff(a))).toEqual([100, 300, 900, 2700]);
    });

    it('is capped by maxDelayMs', () => {
      const policy = exact({ initialDelayMs: 100, multiplier: 10, maxDelayMs: 5000 });
      expect(policy.backoff(2)).toBe(1000);
      expect(policy.backoff(3)).toBe(5000);
      expect(policy.backoff(50)).toBe(5000);
      expect(policy.backoff(10_000)).toBe(5000);
    });

    it('stays constant with multiplier 1', () => {
      const policy = exact({ initialDelayMs: 250, multiplier: 1 });
      expect([1, 2, 7].map((a) => policy.backoff(a))).toEqual([250, 250, 250]);
    });

    it('spreads by ±jitter around the computed delay', () => {
      const options = { initialDelayMs: 1000, jitter: 0.2 };
      expect(withRandom(0, options).backoff(1)).toBeCloseTo(800, 9);
      expect(withRandom(0.5, options).backoff(1)).toBeCloseTo(1000, 9);
      expect(withRandom(0.999, options).backoff(1)).toBeCloseTo(1199.6, 9);
      expect(withRandom(0.999, options).backoff(1)).toBeLessThan(1200);
      // Jitter applies to the capped delay.
      expect(withRandom(0, { ...options, maxDelayMs: 5000 }).backoff(5)).toBeCloseTo(4000, 9);
      // ...and never exceeds the cap.
      expect(withRandom(0.999, { ...options, maxDelayMs: 5000 }).backoff(5)).toBe(5000);
    });

    it('changes the tier only near a boundary', () => {
      // 2800 ±20% spans 2240..3360 around the 1000/10000 boundary at √(1000·10000) ≈ 3162.
      const options = { initialDelayMs: 2800, maxDelayMs: 60_000 };
      expect(withRandom(0, options).decide(1)).toEqual({ retry: true, delayMs: 1000 });
      expect(withRandom(0.5, options).decide(1)).toEqual({ retry: true, delayMs: 1000 });
      expect(withRandom(0.999, options).decide(1)).toEqual({ retry: true, delayMs: 10_000 });
    });
  });

  describe('tierFor', () => {
    const policy = new RetryPolicy({ tiersMs: [1000, 10_000, 60_000] });

    it.each([
      [1000, 1000],
      [3000, 1000],
      [3100, 1000],
      [3200, 10_000],
      [4000, 10_000],
      [10_000, 10_000],
      [24_000, 10_000],
      [25_000, 60_000],
      [500, 1000],
      [0, 1000],
      [-5, 1000],
      [1e6, 60_000],
      [Number.POSITIVE_INFINITY, 60_000],
    ])('maps %d ms to the %d ms tier (nearest in log scale)', (delay, tier) => {
      expect(policy.tierFor(delay)).toBe(tier);
    });

    it.each([
      [1, 10],
      [10, 10],
      [22, 10],
      [23, 50],
      [50, 50],
      [1000, 50],
    ])('with tiers [10, 50] maps %d ms to %d ms', (delay, tier) => {
      expect(new RetryPolicy({ initialDelayMs: 1, tiersMs: [10, 50] }).tierFor(delay)).toBe(tier);
    });

    it('with one tier always answers it', () => {
      const single = new RetryPolicy({ tiersMs: [5000] });
      expect([1, 5000, 1e9].map((d) => single.tierFor(d))).toEqual([5000, 5000, 5000]);
    });
  });
});
