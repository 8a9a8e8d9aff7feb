import type { EventLog, EventLogReadOptions, LogEntry } from '../transport/event-log.js';
import type { OutboundMessage } from '../transport/transport-message.js';

/** The memory broker's retained history: every published message, in publish order, from position 0. */
export class MemoryEventLog implements EventLog {
  private readonly entries: LogEntry[] = [];

  append(message: OutboundMessage): void {
    this.entries.push({ position: this.entries.length, message: { ...message, attempt: 1 } });
  }

  head(): Promise<number> {
    return Promise.resolve(this.entries.length);
  }

  async *read(from: number, options: EventLogReadOptions = {}): AsyncIterable<LogEntry> {
    const end = this.entries.length;
    for (let position = Math.max(0, from); position < end; position++) {
      if (options.signal?.aborted) return;
      const entry = this.entries[position];
      if (entry) yield entry;
    }
  }
}
