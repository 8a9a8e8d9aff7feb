import type { EventLog, EventLogReadOptions, LogEntry } from '../transport/event-log.js';
import type { OutboundMessage } from '../transport/transport-message.js';

/**
 * The memory broker's retained history: every published message, in publish order, from position 0.
 * Positions are consecutive. A following read waits for {@link append} to wake it, never polls.
 */
export class MemoryEventLog implements EventLog {
  private readonly entries: LogEntry[] = [];
  /** Following reads waiting for the next append; each is woken once and then forgotten. */
  private readonly waiters = new Set<() => void>();

  append(message: OutboundMessage): void {
    this.entries.push({ position: this.entries.length, message: { ...message, attempt: 1 } });
    const woken = [...this.waiters];
    this.waiters.clear();
    for (const wake of woken) wake();
  }

  head(): Promise<number> {
    return Promise.resolve(this.entries.length);
  }

  async *read(from: number, options: EventLogReadOptions = {}): AsyncIterable<LogEntry> {
    const { signal, follow = false } = options;
    const end = follow ? Infinity : this.entries.length;
    for (let position = Math.max(0, from); position < end; position++) {
      // A position beyond the end (only reachable when following) is waited for, however many appends it takes.
      while (position >= this.entries.length && !signal?.aborted) await this.nextAppend(signal);
      if (signal?.aborted) return;
      const entry = this.entries[position];
      if (entry) yield entry;
    }
  }

  /** Resolves at the next {@link append}, or as soon as `signal` aborts. */
  private nextAppend(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.waiters.delete(wake);
        // Removed either way, so a long-lived signal does not collect one listener per wait.
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      this.waiters.add(wake);
      signal?.addEventListener('abort', wake);
    });
  }
}
