import { Injectable } from '@nestjs/common';
import { ConfigurationError, type ErrorClass } from '@tidings/core';
import { NAME_FORMAT } from '../module/options.validation.js';

/** Options of {@link Projection}. */
export interface ProjectionOptions {
  /** Most log entries applied per transaction, live and during a rebuild. @default 1000 */
  readonly batchSize?: number;
  /** Handler errors that skip the event (recorded in the copy's `tidings_skipped`) instead of retrying it. */
  readonly skipOn?: readonly ErrorClass[];
  /** Handler errors to retry even if they would skip the event (`NonRetryableError` and its kind do). */
  readonly retryOn?: readonly ErrorClass[];
}

/** What `@Projection` records on a class. */
export interface ProjectionMetadata {
  readonly name: string;
  readonly options: ProjectionOptions;
}

/** Metadata key of {@link Projection} (a reflect-metadata key on the class). */
export const PROJECTION_METADATA = 'tidings:projection';

/** The read model a projection class owns: how to create its tables in a new, empty copy. */
export interface ProjectionReadModel<Tx> {
  /** Creates the read model's tables where `tx` says (for TypeORM: in `tx.schema`, through `tx.manager`). */
  createReadModel(tx: Tx): Promise<void>;
}

/**
 * Marks an injectable class as a projection: its `@OnEvent` methods keep a read model from the transport's event
 * log (not from a queue), and a checkpoint commits with each change, so each event is applied exactly once. The
 * class implements {@link ProjectionReadModel}; a method marked `@OnEventBatch()` may apply several events at once.
 * The module's `projections.store` says where copies of the read model live.
 *
 * @example
 * ```ts
 * @Projection('feed')
 * export class FeedProjection implements ProjectionReadModel<TypeOrmProjectionTx> {
 *   async createReadModel({ manager, schema }: TypeOrmProjectionTx) {
 *     await manager.query(`CREATE TABLE "${schema}".feed_items (...)`);
 *   }
 *
 *   @OnEvent(QuestionAsked)
 *   async onQuestionAsked(event: QuestionAsked, { tx }: ProjectionContext<TypeOrmProjectionTx>) {
 *     await tx.manager.query(`INSERT INTO "${tx.schema}".feed_items ...`, [...]);
 *   }
 * }
 * ```
 */
export function Projection(name: string, options: ProjectionOptions = {}): ClassDecorator {
  if (!NAME_FORMAT.test(name)) {
    throw new ConfigurationError(`@Projection name '${name}' is invalid`, "Use lower-case words, e.g. 'feed' or 'order-totals'.", { name });
  }
  return (target) => {
    Reflect.defineMetadata(PROJECTION_METADATA, { name, options } satisfies ProjectionMetadata, target);
    Injectable()(target);
  };
}

/** The `@Projection` metadata of a class, if it has one. */
export function findProjectionMetadata(target: object): ProjectionMetadata | undefined {
  return Reflect.getMetadata(PROJECTION_METADATA, target) as ProjectionMetadata | undefined;
}

/** Metadata key of {@link OnEventBatch}. */
export const ON_EVENT_BATCH_METADATA = 'tidings:on-event-batch';

/**
 * Marks the method of a `@Projection` class that applies several events at once (multi-row statements), for batches
 * of more than one event. It gets `(events: ProjectedEvent[], context: ProjectionBatchContext<Tx>)`: the events of
 * the batch that the projection's `@OnEvent` methods handle, upcast and validated, in log order. If it throws, the
 * batch is applied again one event at a time through the `@OnEvent` methods, so it must have their effect.
 */
export function OnEventBatch(): MethodDecorator {
  return (target, key, descriptor) => {
    if (typeof descriptor.value !== 'function') {
      throw new ConfigurationError(
        `@OnEventBatch on ${target.constructor.name}.${String(key)} must decorate a method`,
        'Put it on a method.',
      );
    }
    Reflect.defineMetadata(ON_EVENT_BATCH_METADATA, true, descriptor.value);
  };
}
