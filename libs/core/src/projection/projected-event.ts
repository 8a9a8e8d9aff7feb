import type { Envelope } from '../envelope/envelope.js';
import type { ProjectionCopy } from './projection.store.js';

/** An event as a projection sees it: its position in the event log and its envelope, data in the current shape. */
export interface ProjectedEvent<T = unknown> {
  /** Position in the event log. */
  readonly position: number;
  /** The envelope, its `data` upcast to the version the projection's handler declares and validated. */
  readonly envelope: Envelope<T>;
}

/**
 * What a projection handler gets besides the event's data: where the event is in the log, and the
 * transaction its change must be made in. `Tx` is the store's (for TypeORM: an entity manager and the
 * schema of the read-model copy being written).
 */
export interface ProjectionContext<Tx> {
  readonly position: number;
  readonly envelope: Envelope;
  /** The transaction that also moves the checkpoint: write the read model through it, and only through it. */
  readonly tx: Tx;
  /**
   * Which copy this writes: `live` (what readers see) or `rebuild` (a copy being filled from the log). Side effects
   * meant for readers, such as notifying open streams, belong to the live copy only.
   */
  readonly copy: ProjectionCopy;
  /** Runs `callback` once this transaction has committed (never if it rolls back), e.g. to notify live readers. */
  afterCommit(callback: () => void): void;
}

/** What a batch handler gets besides its events. */
export interface ProjectionBatchContext<Tx> {
  readonly tx: Tx;
  /** Which copy this writes (see {@link ProjectionContext.copy}). */
  readonly copy: ProjectionCopy;
  /** Runs `callback` once this transaction has committed (never if it rolls back). */
  afterCommit(callback: () => void): void;
}
