import type { InboundMessage } from './transport-message.js';

/** One entry of an event log: its position and the message as it was published. */
export interface LogEntry {
  /** Monotonic position in the log (a stream offset); pass `position + 1` to continue after it. */
  readonly position: number;
  readonly message: InboundMessage;
}

/** Options of {@link EventLog.read}. */
export interface EventLogReadOptions {
  /** Stop reading early: the iteration returns (it does not throw) once the signal aborts, even while waiting. */
  readonly signal?: AbortSignal;
  /**
   * Keep reading past the head: wait for events published later and yield them as they arrive, until `signal`
   * aborts. Without it, iteration ends at the head as it was when iteration started. A broken connection ends
   * a following read by throwing; read again from the position after the last entry handled. @default false
   */
  readonly follow?: boolean;
}

/**
 * Optional transport capability: the retained history of every published event, readable from
 * a position. Projections replay it to rebuild read models.
 */
export interface EventLog {
  /** Position the next published event will get (so `read(0)` up to `head()` is the history so far). */
  head(): Promise<number>;
  /**
   * Entries from `from` (inclusive), in log order: up to the head as it was when iteration started, or, with
   * `follow`, on and on as events are published. Entries are fetched as the caller consumes them, so a slow
   * consumer holds a bounded number of entries in memory however long the log is.
   */
  read(from: number, options?: EventLogReadOptions): AsyncIterable<LogEntry>;
}
