import { ConfigurationError } from '../errors/configuration.error.js';
import type { OutboxStore } from './outbox.store.js';

/** Options of {@link OutboxBackpressure}. */
export interface OutboxBackpressureOptions {
  /** Pending records above which new work is refused. */
  readonly maxPending: number;
  /** How long one read of the backlog is trusted, so a burst of requests costs one query. @default 500 */
  readonly refreshMs?: number;
  /** Longest `Retry-After` advised. @default 60 */
  readonly maxRetryAfterSeconds?: number;
}

/** Whether to accept new work now. */
export interface BackpressureVerdict {
  readonly overloaded: boolean;
  readonly pending: number;
  /** When overloaded: seconds after which the backlog should be back under the bound at the relay's current rate. */
  readonly retryAfterSeconds: number;
}

/**
 * Refuses new work while the outbox backlog is above a bound, instead of letting it grow without limit while the
 * broker is away or the relay falls behind: callers answer 503 with `Retry-After` (HTTP) or pause (workers).
 * The backlog is read at most once per `refreshMs`; a failed read keeps the last verdict, since a database that does
 * not answer refuses the work by itself.
 */
export class OutboxBackpressure {
  private readonly refreshMs: number;
  private readonly maxRetryAfterSeconds: number;
  private verdict: BackpressureVerdict = { overloaded: false, pending: 0, retryAfterSeconds: 0 };
  private readAt = -Infinity;
  private reading: Promise<BackpressureVerdict> | undefined;

  /**
   * @param store the outbox whose backlog bounds the work
   * @param options the bound
   * @param drainRate records published per second now (e.g. `() => relay.stats().publishedPerSecond`), to advise
   *   how long to wait
   * @param clock milliseconds, for tests
   */
  constructor(
    private readonly store: Pick<OutboxStore, 'backlog'>,
    private readonly options: OutboxBackpressureOptions,
    private readonly drainRate: () => number = () => 0,
    private readonly clock: () => number = () => performance.now(),
  ) {
    if (!(Number.isInteger(options.maxPending) && options.maxPending > 0)) {
      throw new ConfigurationError(
        `Outbox backpressure maxPending must be a positive whole number, got ${options.maxPending}`,
        'Set it well above the backlog of a normal burst, e.g. a minute of writes.',
      );
    }
    this.refreshMs = options.refreshMs ?? 500;
    this.maxRetryAfterSeconds = options.maxRetryAfterSeconds ?? 60;
  }

  /** The current verdict, reading the backlog if the last read is older than `refreshMs`. */
  check(): Promise<BackpressureVerdict> {
    if (this.clock() - this.readAt < this.refreshMs) return Promise.resolve(this.verdict);
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async read(): Promise<BackpressureVerdict> {
    try {
      const { pending } = await this.store.backlog();
      const excess = pending - this.options.maxPending;
      const rate = Math.max(this.drainRate(), 1);
      this.verdict = {
        overloaded: excess > 0,
        pending,
        retryAfterSeconds: excess > 0 ? Math.min(this.maxRetryAfterSeconds, Math.max(1, Math.ceil(excess / rate))) : 0,
      };
    } catch {
      // Keep the last verdict; see the class comment.
    }
    this.readAt = this.clock();
    return this.verdict;
  }
}
