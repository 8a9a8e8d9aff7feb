/** Counts per second over a sliding window, from per-event additions (bucketed by second). */
export class ThroughputWindow {
  private readonly buckets = new Map<number, number>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  add(count: number): void {
    const second = Math.floor(this.now() / 1000);
    this.buckets.set(second, (this.buckets.get(second) ?? 0) + count);
    this.evict(second);
  }

  perSecond(): number {
    const second = Math.floor(this.now() / 1000);
    this.evict(second);
    let total = 0;
    for (const count of this.buckets.values()) total += count;
    return total / (this.windowMs / 1000);
  }

  private evict(second: number): void {
    const oldest = second - Math.ceil(this.windowMs / 1000) + 1;
    for (const key of this.buckets.keys()) if (key < oldest) this.buckets.delete(key);
  }
}
