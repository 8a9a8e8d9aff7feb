/** Identifies one handling of one message: the message id and the consumer (subscription). */
export interface InboxKey {
  readonly messageId: string;
  readonly consumer: string;
}

/** One delivery of a group handled in one transaction: its message id and the work to run in its own savepoint. */
export interface InboxGroupEntry {
  readonly messageId: string;
  readonly work: () => Promise<void>;
}

/** What became of one entry of a group: its work committed, it was handled before, or its work threw (rolled back). */
export type InboxEntryResult =
  { readonly kind: 'handled' } | { readonly kind: 'duplicate' } | { readonly kind: 'failed'; readonly error: unknown };

/**
 * Persistence port for idempotent consumption (the inbox). An implementation records `key` and
 * runs `work` atomically (one database transaction), so a redelivery of a handled message is skipped.
 *
 * The two optional methods let many deliveries share one transaction (group commit, batch handlers): a
 * commit costs a round trip and a flush to disk, so one per delivery caps a consumer far below the broker.
 */
export interface InboxStore {
  /** Runs `work` unless `key` was recorded already; resolves `true` if it ran, `false` if skipped. */
  runOnce(key: InboxKey, work: () => Promise<void>): Promise<boolean>;
  /**
   * Group commit: in one transaction, records every entry not handled before and runs its work, in order, as if each
   * ran inside its own savepoint: an entry whose work throws is rolled back (its record too) and the others stay.
   * Resolves after the commit with one result per entry, in order. Rejects, with nothing committed, if the
   * transaction itself fails (connection lost, commit refused). An implementation may run the group without
   * savepoints first and, when an entry throws, roll back and run the others again: an entry's work may then run
   * more than once, every run but the last rolled back.
   */
  runGroup?(consumer: string, entries: readonly InboxGroupEntry[]): Promise<readonly InboxEntryResult[]>;
  /**
   * Batch: in one transaction, records every message not handled before and calls `work` once with their indexes in
   * `messageIds` (first occurrences, in order), then commits. Resolves with those indexes. If `work` or the commit
   * throws, nothing is recorded and it rejects with that error.
   */
  runBatch?(consumer: string, messageIds: readonly string[], work: (fresh: readonly number[]) => Promise<void>): Promise<readonly number[]>;
  /**
   * How long handled keys are kept. A redelivery later than this runs the handler again, so it must
   * exceed the longest retry schedule of every subscription using the store (frameworks check it).
   */
  readonly retentionMs?: number;
  /** Deletes up to `limit` keys older than {@link retentionMs}; returns how many. Called periodically. */
  purgeExpired?(limit: number): Promise<number>;
}
