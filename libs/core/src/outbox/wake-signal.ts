/**
 * Wakes waiting relay workers when records may have arrived. {@link notify} wakes one waiter (a worker that then
 * finds a full batch wakes the next), so a single commit does not send every idle worker to claim the same row. A
 * notification that finds no waiter is kept until a worker takes it, so a worker that was busy when it came does not
 * sleep through it; one handed to a waiter is not kept, so busy workers do not all claim again for a row the woken
 * one is already claiming (at low rates that made most claims empty).
 */
export class WakeSignal {
  private generation = 0;
  /** The generation of the latest notification that found no waiter, until a worker takes it; 0 when none. */
  private unheard = 0;
  private waiters = new Set<() => void>();

  /** The current generation: pass it to {@link wait} to hear any notification after this moment. */
  get current(): number {
    return this.generation;
  }

  /** Wakes the longest-waiting waiter; with none, the next worker to {@link wait} takes the notification. */
  notify(): void {
    this.generation += 1;
    const [first] = this.waiters;
    if (first) first();
    else this.unheard = this.generation;
  }

  /** Wakes every waiter (stopping). */
  notifyAll(): void {
    this.generation += 1;
    for (const wake of [...this.waiters]) wake();
  }

  /**
   * Resolves at once if a notification after generation `since` found no waiter (this caller takes it: no other is
   * sent for it) or, with `anyNotification`, if any notification came after `since` (for a worker whose claim may
   * have kept others from rows, which it must look for again). Otherwise resolves at the next notification that
   * reaches this waiter, or after `timeoutMs`.
   */
  wait(since: number, timeoutMs: number, anyNotification = false): Promise<void> {
    if (this.unheard > since) {
      this.unheard = 0;
      return Promise.resolve();
    }
    if (anyNotification && this.generation > since) return Promise.resolve();
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
