/** A counting semaphore: at most `size` publishes await confirmation at once; the rest queue in order. */
export class PublishWindow {
  private used = 0;
  // A queue with a moving head: Array#shift is O(n), which a single publish of 30,000 envelopes made visible.
  private waiting: (() => void)[] = [];
  private head = 0;

  constructor(private readonly size: number) {}

  get inFlight(): number {
    return this.used;
  }

  /** Takes a slot if one is free now. */
  tryAcquire(): boolean {
    if (this.used >= this.size) return false;
    this.used++;
    return true;
  }

  /** Waits for a slot; slots go to waiters in arrival order. */
  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head] as () => void;
      this.waiting[this.head++] = undefined as unknown as () => void;
      if (this.head === this.waiting.length) {
        this.waiting = [];
        this.head = 0;
      }
      next();
    } else {
      this.used--;
    }
  }
}
