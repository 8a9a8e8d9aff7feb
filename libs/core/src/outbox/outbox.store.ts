import type { Envelope } from '../envelope/envelope.js';

/** One event waiting in the outbox. */
export interface OutboxRecord {
  /** The store's position for the record: insertion order, unique. */
  readonly position: string;
  readonly envelope: Envelope;
  /** Publish attempts that failed so far. */
  readonly attempts: number;
}

/** What became of a claim's records. */
export interface OutboxClaimResult {
  /** Positions the broker accepted: remove them (or mark them published). */
  readonly published: readonly string[];
  /** Positions that were not published, with why: they stay pending, their attempt count grows. */
  readonly failed: readonly { readonly position: string; readonly reason: string }[];
}

/**
 * Records claimed by one relay: no other relay claims them, nor any later record of their partition
 * keys, until the claim is completed or released (or its holder dies).
 */
export interface OutboxClaim {
  readonly records: readonly OutboxRecord[];
  /** Records the result and ends the claim; records in neither list stay pending. */
  complete(result: OutboxClaimResult): Promise<void>;
  /** Ends the claim leaving every record pending. Never throws (a lost connection releases it too). */
  release(): Promise<void>;
}

/** How far publishing is behind. */
export interface OutboxBacklog {
  /** Records waiting (due or scheduled). */
  readonly pending: number;
  /** Records due now. */
  readonly due: number;
  /** When the oldest due record was written; absent if none is due. */
  readonly oldestDueAt?: Date;
}

/** Stops a {@link OutboxStore.watch}. */
export interface OutboxWatch {
  close(): Promise<void>;
}

/**
 * Persistence port of the transactional outbox, as the relay sees it. Writing records is the
 * adapter's own API, because it must join the caller's database transaction.
 *
 * Ordering contract of {@link claim}: a record with a partition key is claimed only together with,
 * or after the removal of, every earlier due record of the same key; so relays publishing their
 * claims in position order never invert a key's order, however many run at once.
 */
export interface OutboxStore {
  /** Claims up to `limit` due records in position order; `undefined` when none is due and unclaimed. */
  claim(limit: number): Promise<OutboxClaim | undefined>;
  /**
   * Calls `wake` soon after records are committed (PostgreSQL NOTIFY, say), so the relay need not
   * wait for its next poll. Optional: without it the relay polls. `onError` hears a lost watch; the
   * store re-establishes it itself.
   */
  watch?(wake: () => void, onError: (error: Error) => void): Promise<OutboxWatch>;
  /** Pending records and the age of the oldest due one. */
  backlog(): Promise<OutboxBacklog>;
  /**
   * Deletes up to `limit` published records older than the store's retention; returns how many. Only
   * stores that keep published records for a while (for audit or debugging) implement it.
   */
  purgePublished?(limit: number): Promise<number>;
}
