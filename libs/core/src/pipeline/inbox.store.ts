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
}
