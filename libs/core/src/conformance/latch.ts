/** How long waits last unless told otherwise: ample for a real broker, well within a 10 s test. */
export const DEFAULT_WAIT_MS = 5000;

interface Waiter {
  readonly met: () => boolean;
  readonly resolve: () => void;
}

/**
 * A counter tests wait on: code under test calls {@link arrive}, the test awaits {@link wait} (or
 * {@link until}) with a deadline. Replaces sleeps: it resolves as soon as the condition holds, and
 * rejects with a message naming what was awaited and how far it got.
 *
 * @example
 * ```ts
 * const handled = new Latch('orders handled', 3);
 * // handler: handled.arrive();
 * await handled.wait(5000);
 * ```
 */
export class Latch {
  private current = 0;
  private readonly waiters = new Set<Waiter>();

  /**
   * @param label Names the latch in timeout messages.
   * @param target The count {@link wait} waits for. @default 1
   */
  constructor(
    readonly label: string,
    readonly target = 1,
  ) {}

  /** How many arrivals so far. */
  get count(): number {
    return this.current;
  }

  /** Counts one arrival (or `by`) and wakes the waiters whose condition now holds. */
  arrive(by = 1): void {
    this.current += by;
    for (const waiter of this.waiters) {
      if (waiter.met()) waiter.resolve();
    }
  }

  /** Resolves once the count reaches the target; rejects after `timeoutMs`. */
  wait(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.waitFor(this.target, timeoutMs);
  }

  /** Resolves once the count reaches `count`; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.until(() => this.current >= count, timeoutMs, `a count of ${count}`);
  }

  /** Resolves once `condition` holds, checked now and after every arrival; rejects after `timeoutMs`. */
  until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        met: condition,
        resolve: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`Latch '${this.label}' timed out after ${timeoutMs} ms waiting for ${what}; count is ${this.current}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}
