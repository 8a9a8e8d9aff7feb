import type { ProjectedEvent } from './projected-event.js';

/** Which copy of a read model: the one serving reads and following the log, or the one a rebuild fills. */
export type ProjectionCopy = 'live' | 'rebuild';

/** Where a copy of a read model stands in the event log. */
export interface Checkpoint {
  /** Identity of the copy; a swap puts another copy live, so a runner holding the old id knows it moved. */
  readonly copyId: string;
  /** The next position to apply (every entry below it is applied, skipped or ignored). */
  readonly position: number;
}

/** An event a projection could not apply and passed over, kept for people to inspect. */
export interface SkippedEvent {
  readonly position: number;
  /** Unknown when the message could not even be decoded. */
  readonly eventId: string | undefined;
  readonly type: string | undefined;
  /** Stable error code, e.g. `TIDINGS_VALIDATION_FAILED`. */
  readonly code: string;
  /** Error class and message. */
  readonly reason: string;
}

/** One transaction's worth of log entries for a copy: applied, skipped, and the checkpoint move. */
export interface ProjectionCommit<Tx> {
  /** The checkpoint the batch was read from; the commit is refused if the copy is no longer there. */
  readonly from: Checkpoint;
  /** The checkpoint's new position (one past the last entry of the batch). */
  readonly to: number;
  /** Events to apply, in log order. */
  readonly events: readonly ProjectedEvent[];
  readonly skipped: readonly SkippedEvent[];
  /**
   * Applies events in the commit's transaction. The store passes only events whose id it has not applied before
   * (the relay may publish an event twice, so the log may hold it twice).
   */
  apply(tx: Tx, events: readonly ProjectedEvent[]): Promise<void>;
}

/** Applies the rebuild copy's remaining entries inside the swap's transaction. */
export type SwapCatchUp<Tx> = (
  live: Checkpoint | undefined,
  rebuild: Checkpoint,
  commit: (commit: ProjectionCommit<Tx>) => Promise<void>,
) => Promise<void>;

/** A copy's checkpoint and when it last moved, for status reports. */
export interface CopyStatus extends Checkpoint {
  readonly updatedAt: Date;
  /** Events skipped in this copy so far. */
  readonly skipped: number;
}

/** Both copies of a read model, as far as they exist. */
export interface ProjectionStatus {
  readonly live?: CopyStatus;
  /** The copy a rebuild is filling (or an interrupted rebuild left, to be resumed). */
  readonly rebuild?: CopyStatus;
  /** Whether a rebuild holds the rebuild lock now (in any process). */
  readonly rebuildRunning: boolean;
}

/**
 * Persistence port of a projection's read model: copies of it, each with its checkpoint, and the atomic swap
 * that puts a rebuilt copy live. Implementations must commit a batch's changes, its skipped events and its
 * checkpoint in one transaction.
 */
export interface ProjectionStore<Tx> {
  /** The copy's checkpoint, creating the copy (bookkeeping and read model, through `create`) at position 0 if it does not exist. */
  open(copy: ProjectionCopy, create: (tx: Tx) => Promise<void>): Promise<Checkpoint>;
  /** The copy's checkpoint, or `undefined` when the copy does not exist. */
  checkpoint(copy: ProjectionCopy): Promise<Checkpoint | undefined>;
  /**
   * In one transaction: checks that the copy is still at `commit.from` (same copy, same position), applies the
   * batch, records skipped events, moves the checkpoint to `commit.to`. Resolves `false`, having changed nothing,
   * when the copy is elsewhere (another runner moved it, or a swap replaced it).
   */
  commit(copy: ProjectionCopy, commit: ProjectionCommit<Tx>): Promise<boolean>;
  /**
   * In one transaction: holds the live copy's checkpoint (its runner waits), lets `catchUp` apply to the rebuild
   * copy what the live copy has beyond it, then makes the rebuild copy live; the old copy is retired.
   */
  swap(catchUp: SwapCatchUp<Tx>): Promise<void>;
  /** Drops a retired copy, if there is one. */
  dropRetired(): Promise<void>;
  /**
   * The right to rebuild, held until the returned release is called (or the process dies).
   * Rejects with `ProjectionRebuildRunningError` when another rebuild holds it.
   */
  lockRebuild(): Promise<() => Promise<void>>;
  status(): Promise<ProjectionStatus>;
  /** The skipped events of a copy, newest first. */
  skipped(copy: ProjectionCopy, limit: number): Promise<SkippedEvent[]>;
}
