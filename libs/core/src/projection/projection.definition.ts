import type { EventDefinition } from '../events/integration-event.decorator.js';
import type { ErrorClassifier } from '../retry/error.classifier.js';
import type { ProjectedEvent, ProjectionBatchContext, ProjectionContext } from './projected-event.js';

/** One event handler of a projection: bound to an event class (type and the version it expects). */
export interface ProjectionHandler<Tx> {
  /** For logs and skip reasons, e.g. `FeedProjection.onAnswerAdded`. */
  readonly name: string;
  readonly event: EventDefinition;
  readonly handle: (data: unknown, context: ProjectionContext<Tx>) => unknown;
}

/**
 * A projection: a read model kept from the event log by handlers, with a checkpoint (its position in
 * the log) that commits in the same transaction as each change, so every event is applied exactly once.
 */
export interface ProjectionDefinition<Tx> {
  /** Names the projection in the CLI, the admin endpoint, logs and the checkpoint, e.g. `feed`. */
  readonly name: string;
  readonly handlers: readonly ProjectionHandler<Tx>[];
  /**
   * Optional: applies several events in one go (multi-row statements), in log order. Used for batches of more
   * than one event; when it throws, the batch is applied again one event at a time through {@link handlers}, so
   * it must have the same effect as calling them in order.
   */
  readonly applyBatch?: (events: readonly ProjectedEvent[], context: ProjectionBatchContext<Tx>) => unknown;
  /** Creates the read model's tables in a new, empty copy (the store says where, through `tx`). */
  readonly createReadModel: (tx: Tx) => Promise<void>;
  /** Which handler errors skip the event (recorded) rather than stall the projection until it succeeds. */
  readonly classifier: ErrorClassifier;
}
