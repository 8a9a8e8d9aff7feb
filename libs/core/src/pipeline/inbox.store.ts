/** Identifies one handling of one message: the message id and the consumer (subscription). */
export interface InboxKey {
  readonly messageId: string;
  readonly consumer: string;
}

/**
 * Persistence port for idempotent consumption (the inbox). An implementation records `key` and
 * runs `work` atomically (one database transaction), so a redelivery of a handled message is skipped.
 */
export interface InboxStore {
  /** Runs `work` unless `key` was recorded already; resolves `true` if it ran, `false` if skipped. */
  runOnce(key: InboxKey, work: () => Promise<void>): Promise<boolean>;
  /**
   * How long handled keys are kept. A redelivery later than this runs the handler again, so it must
   * exceed the longest retry schedule of every subscription using the store (frameworks check it).
   */
  readonly retentionMs?: number;
  /** Deletes up to `limit` keys older than {@link retentionMs}; returns how many. Called periodically. */
  purgeExpired?(limit: number): Promise<number>;
}
