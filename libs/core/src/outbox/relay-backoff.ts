/** How long the relay pauses after failures: exponential, capped, with jitter so relays do not retry in step. */
export interface RelayBackoffOptions {
  /** Pause after the first failure. @default 200 */
  readonly initialMs?: number;
  /** Longest pause. @default 15000 */
  readonly maxMs?: number;
}

export class RelayBackoff {
  private failures = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;

  constructor(
    options: RelayBackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.initialMs = options.initialMs ?? 200;
    this.maxMs = options.maxMs ?? 15_000;
  }

  /** Consecutive failures since the last success. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Records a failure and returns the pause before the next attempt (between half and all of the exponential step). */
  failed(): number {
    this.failures += 1;
    const step = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.failures - 1, 30));
    return Math.round(step * (0.5 + this.random() / 2));
  }

  succeeded(): void {
    this.failures = 0;
  }
}
