import type { InboundMessage } from './transport-message.js';

/** One entry of an event log: its position and the message as it was published. */
export interface LogEntry {
  /** Monotonic position in the log (a stream offset); pass `position + 1` to continue after it. */
  readonly position: number;
  readonly message: InboundMessage;
}

/** Options of {@link EventLog.read}. */
export interface EventLogReadOptions {
  /** Stop reading early. */
  readonly signal?: AbortSignal;
}

/**
 * Optional transport capability: the retained history of every published event, readable from
 * a position. Projections replay it to rebuild read models.
 */
export interface EventLog {
  /** Position the next published event will get (so `read(0)` up to `head()` is the history so far). */
  head(): Promise<number>;
  /** Entries from `from` (inclusive) up to the head as it was when iteration started, in log order. */
  read(from: number, options?: EventLogReadOptions): AsyncIterable<LogEntry>;
}
