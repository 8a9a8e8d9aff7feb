/**
 * Wakes waiting relay workers when records may have arrived. Remembers notifications by generation,
 * so a worker that was busy when one came does not sleep through it. {@link notify} wakes one waiter
 * (a worker that then finds a full batch wakes the next), so a single commit does not send every idle
 * worker to claim the same row.
 */
export class WakeSignal {
  private generation = 0;
  private waiters = new Set<() => void>();

  /** The current generation: pass it to {@link wait} to hear any notification after this moment. */
  get current(): number {
    return this.generation;
  }

  /** Wakes the longest-waiting waiter; busy workers see the new generation when they next wait. */
  notify(): void {
    this.generation += 1;
    const [first] = this.waiters;
    first?.();
  }

  notifyAll(): void {
    this.generation += 1;
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves at the first notification after generation `since` that reaches this waiter, or after `timeoutMs`. */
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
