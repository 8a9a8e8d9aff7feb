import type {
  Checkpoint,
  EventLog,
  EventLogReadOptions,
  LogEntry,
  ProjectionCommit,
  ProjectionCopy,
  ProjectionStatus,
  ProjectionStore,
  SkippedEvent,
  SwapCatchUp,
} from '@tidings/core';

/**
 * The first positions of a log, below `end`: a rebuild or a read of it stops there as if it were the head. Lets the
 * warm-ups and the one-transaction-per-event rebuild replay a prefix of the same stream as the other variants.
 */
export class PrefixEventLog implements EventLog {
  constructor(
    private readonly log: EventLog,
    private readonly end: number,
  ) {}

  async head(): Promise<number> {
    return Math.min(await this.log.head(), this.end);
  }

  async *read(from: number, options?: EventLogReadOptions): AsyncIterable<LogEntry> {
    if (from >= this.end) return;
    for await (const entry of this.log.read(from, options)) {
      if (entry.position >= this.end) return; // closes the underlying read (its consumer and channel)
      yield entry;
    }
  }
}

/**
 * Entries read from a log beforehand, served from memory: a rebuild from it measures the projection (decoding,
 * validation, the store's transactions, the feed's writes) without the broker. `entries[i]` must be at position `i`.
 */
export class PreloadedEventLog implements EventLog {
  constructor(
    private readonly entries: readonly LogEntry[],
    private readonly end: number = entries.length,
  ) {}

  async head(): Promise<number> {
    return this.end;
  }

  async *read(from: number, options?: EventLogReadOptions): AsyncIterable<LogEntry> {
    for (let position = Math.max(0, from); position < this.end && !options?.signal?.aborted; position++) {
      yield this.entries[position] as LogEntry;
    }
  }

  /** Reads `log` from 0 up to its head into memory; checks that positions are 0, 1, 2, … */
  static async of(log: EventLog): Promise<PreloadedEventLog> {
    const entries: LogEntry[] = [];
    for await (const entry of log.read(0)) {
      if (entry.position !== entries.length) throw new Error(`log entry ${entries.length} is at position ${entry.position}`);
      entries.push(entry);
    }
    return new PreloadedEventLog(entries);
  }

  /** The first `n` entries. */
  prefix(n: number): PreloadedEventLog {
    return new PreloadedEventLog(this.entries, Math.min(n, this.end));
  }
}

/**
 * A projection store that times its commits (each one transaction: checkpoint check, applied ids, the feed's writes,
 * checkpoint move) and counts them with the events they applied: how much of a rebuild is the database's share.
 */
export class TimedProjectionStore<Tx> implements ProjectionStore<Tx> {
  commits = 0;
  events = 0;
  commitMs = 0;

  constructor(private readonly store: ProjectionStore<Tx>) {}

  open(copy: ProjectionCopy, create: (tx: Tx) => Promise<void>): Promise<Checkpoint> {
    return this.store.open(copy, create);
  }

  checkpoint(copy: ProjectionCopy): Promise<Checkpoint | undefined> {
    return this.store.checkpoint(copy);
  }

  async commit(copy: ProjectionCopy, commit: ProjectionCommit<Tx>): Promise<boolean> {
    const started = performance.now();
    try {
      return await this.store.commit(copy, commit);
    } finally {
      this.commitMs += performance.now() - started;
      this.commits += 1;
      this.events += commit.events.length;
    }
  }

  swap(catchUp: SwapCatchUp<Tx>): Promise<void> {
    return this.store.swap(catchUp);
  }

  dropRetired(): Promise<void> {
    return this.store.dropRetired();
  }

  lockRebuild(): Promise<() => Promise<void>> {
    return this.store.lockRebuild();
  }

  status(): Promise<ProjectionStatus> {
    return this.store.status();
  }

  skipped(copy: ProjectionCopy, limit: number): Promise<SkippedEvent[]> {
    return this.store.skipped(copy, limit);
  }
}
