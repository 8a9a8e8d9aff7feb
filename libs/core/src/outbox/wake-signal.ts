/**
 * Wakes waiting relay workers when records may have arrived. Remembers notifications by generation,
 * so a worker that was busy when one came does not sleep through it.
 */
export class WakeSignal {
  private generation = 0;
  private waiters = new Set<() => void>();

  /** The current generation: pass it to {@link wait} to hear any notification after this moment. */
  get current(): number {
    return this.generation;
  }

  notify(): void {
    this.generation += 1;
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Resolves at the first notification after generation `since`, or after `timeoutMs`. */
  wait(since: number, timeoutMs: number): Promise<void> {
    if (this.generation > since) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      this.waiters.add(wake);
    });
  }
}
