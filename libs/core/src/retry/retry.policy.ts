import { ConfigurationError } from '../errors/configuration.error.js';

/** Options of a {@link RetryPolicy}. All durations in milliseconds. */
export interface RetryOptions {
  /** Attempts in all, the first one included; 1 means never retry. @default 5 */
  readonly maxAttempts?: number;
  /** Delay before the first retry. @default 1000 */
  readonly initialDelayMs?: number;
  /** Each retry waits this many times longer than the previous one. @default 10 */
  readonly multiplier?: number;
  /** Upper bound of the computed delay. @default 60000 */
  readonly maxDelayMs?: number;
  /** Random spread, as a fraction of the delay (0.2 = ±20%). @default 0.2 */
  readonly jitter?: number;
  /**
   * The fixed delays a transport can realise (one delay queue each on RabbitMQ), ascending.
   * Every computed delay is mapped onto the nearest tier. @default [1000, 10000, 60000]
   */
  readonly tiersMs?: readonly number[];
}

/** What to do after a failed attempt that may be retried. */
export type RetryDecision = { readonly retry: true; readonly delayMs: number } | { readonly retry: false };

/** Defaults of {@link RetryOptions}. */
export const DEFAULT_RETRY_OPTIONS: Required<RetryOptions> = {
  maxAttempts: 5,
  initialDelayMs: 1000,
  multiplier: 10,
  maxDelayMs: 60_000,
  jitter: 0.2,
  tiersMs: [1000, 10_000, 60_000],
};

const invalid = (option: string, value: unknown, rule: string): ConfigurationError =>
  new ConfigurationError(`Invalid retry option ${option}: ${JSON.stringify(value)}`, `${option} must be ${rule}.`, { option, value });

/**
 * Bounded exponential backoff with jitter, mapped onto a fixed set of delay tiers (brokers such as
 * RabbitMQ delay with one TTL queue per tier, so arbitrary delays cannot be realised).
 *
 * Jitter shifts the computed delay before it is mapped, so it only changes the tier chosen near a
 * boundary; with few tiers, retries of a burst that failed together come back together.
 */
export class RetryPolicy {
  readonly options: Required<RetryOptions>;

  constructor(
    options: RetryOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    // An option explicitly set to undefined (say, an unset @OnEvent option passed through) means "default".
    const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as RetryOptions;
    const o = { ...DEFAULT_RETRY_OPTIONS, ...given };
    if (!Number.isInteger(o.maxAttempts) || o.maxAttempts < 1) throw invalid('maxAttempts', o.maxAttempts, 'a whole number from 1');
    if (!(o.initialDelayMs >= 0)) throw invalid('initialDelayMs', o.initialDelayMs, 'zero or more');
    if (!(o.multiplier >= 1)) throw invalid('multiplier', o.multiplier, 'at least 1');
    if (!(o.maxDelayMs >= o.initialDelayMs)) throw invalid('maxDelayMs', o.maxDelayMs, 'at least initialDelayMs');
    if (!(o.jitter >= 0 && o.jitter < 1)) throw invalid('jitter', o.jitter, 'a fraction from 0 (inclusive) to 1 (exclusive)');
    const ascending = o.tiersMs.every((t, i) => Number.isInteger(t) && t > 0 && (i === 0 || t > (o.tiersMs[i - 1] ?? 0)));
    if (o.tiersMs.length === 0 || !ascending) throw invalid('tiersMs', o.tiersMs, 'a non-empty list of ascending whole numbers above 0');
    this.options = { ...o, tiersMs: [...o.tiersMs] };
  }

  /** Decision after attempt number `attempt` (1-based) failed with a retryable error. */
  decide(attempt: number): RetryDecision {
    if (attempt >= this.options.maxAttempts) return { retry: false };
    return { retry: true, delayMs: this.tierFor(this.backoff(attempt)) };
  }

  /** An upper bound of the time from a message's first attempt to its last: every retry at the largest tier. */
  horizonMs(): number {
    const { maxAttempts, tiersMs } = this.options;
    return (maxAttempts - 1) * Math.max(...tiersMs);
  }

  /**
   * The computed delay after `attempt` failed, before mapping: capped exponential with jitter, clamped so it
   * never exceeds `maxDelayMs` (at the cap the spread is one-sided: from `maxDelayMs × (1 − jitter)` to the cap).
   */
  backoff(attempt: number): number {
    const { initialDelayMs, multiplier, maxDelayMs, jitter } = this.options;
    const base = Math.min(maxDelayMs, initialDelayMs * multiplier ** (attempt - 1));
    return Math.min(maxDelayMs, base * (1 + jitter * (2 * this.random() - 1)));
  }

  /** The tier nearest to `delayMs` on a logarithmic scale (ratios matter for delays: 3s is nearer 1s than 10s). */
  tierFor(delayMs: number): number {
    const tiers = this.options.tiersMs;
    // Clamped so an unbounded delay (maxDelayMs: Infinity) maps to the largest tier, not the first.
    const target = Math.log(Math.min(Math.max(delayMs, 1), Number.MAX_VALUE));
    let best = tiers[0] ?? 0;
    for (const tier of tiers) {
      if (Math.abs(Math.log(tier) - target) < Math.abs(Math.log(best) - target)) best = tier;
    }
    return best;
  }
}
