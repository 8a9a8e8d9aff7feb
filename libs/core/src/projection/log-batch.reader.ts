import type { EventLog, LogEntry } from '../transport/event-log.js';

/**
 * Reads an event log ahead of the projection applying it, and hands it out in batches: `next(max)` waits for at
 * least one entry and returns up to `max` of those already read. While a batch is applied, the next is read, and
 * at a low rate a batch is whatever has arrived, so a live projection neither waits to fill batches nor falls
 * behind under load. At most `capacity` entries are held.
 */
export class LogBatchReader {
  private readonly buffered: LogEntry[] = [];
  private readonly controller = new AbortController();
  private done = false;
  private failure: { error: unknown } | undefined;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  constructor(
    log: EventLog,
    from: number,
    options: { readonly follow: boolean; readonly capacity: number; readonly signal?: AbortSignal },
  ) {
    const signal = options.signal ? AbortSignal.any([options.signal, this.controller.signal]) : this.controller.signal;
    void this.pump(log, from, options.follow, options.capacity, signal);
  }

  /** Up to `max` entries; `[]` once a non-following read has reached its end or the reader was closed. Throws what the read threw. */
  async next(max: number): Promise<LogEntry[]> {
    while (this.buffered.length === 0 && !this.done) {
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
      this.wakeConsumer = undefined;
    }
    if (this.buffered.length === 0 && this.failure) throw this.failure.error;
    const batch = this.buffered.splice(0, max);
    this.wakeProducer?.();
    return batch;
  }

  /** Stops reading; entries not taken yet are dropped, and `next()` returns `[]` from now on. */
  close(): void {
    this.controller.abort();
    this.buffered.length = 0;
    this.finish();
  }

  private async pump(log: EventLog, from: number, follow: boolean, capacity: number, signal: AbortSignal): Promise<void> {
    try {
      for await (const entry of log.read(from, { follow, signal })) {
        this.buffered.push(entry);
        this.wakeConsumer?.();
        while (this.buffered.length >= capacity && !signal.aborted) {
          await new Promise<void>((resolve) => (this.wakeProducer = resolve));
          this.wakeProducer = undefined;
        }
        if (signal.aborted) break;
      }
    } catch (error) {
      if (!signal.aborted) this.failure = { error };
    }
    this.finish();
  }

  private finish(): void {
    this.done = true;
    this.wakeConsumer?.();
    this.wakeProducer?.();
  }
}
