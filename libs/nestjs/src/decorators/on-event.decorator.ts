import { ConfigurationError, type ErrorClass, type EventClass, type GroupCommitOptions, type RetryOptions } from '@tidings/core';

/** Options of {@link OnEvent}; anything omitted comes from the module's `defaults`. */
export interface OnEventOptions {
  /**
   * Subscription (queue) name inside this service; the queue is `<service>.<subscription>`.
   * Handlers that name the same subscription share one queue and are dispatched by event type.
   * @default `<class-name>.<method-name>` in kebab case, e.g. `notify-asker.on-answer-added`
   */
  readonly subscription?: string;
  /** Retry schedule for this handler's failures. */
  readonly retry?: RetryOptions;
  /** Errors to retry even if they would dead-letter. */
  readonly retryOn?: readonly ErrorClass[];
  /** Errors to dead-letter at once; checked before `retryOn`. */
  readonly deadLetterOn?: readonly ErrorClass[];
  /** Unacknowledged messages per consumer of this subscription. */
  readonly prefetch?: number;
  /** Deliveries handled at once per consumer of this subscription. */
  readonly concurrency?: number;
  /**
   * Run each delivery in a database transaction through the module's `inbox`: the inbox row and the
   * handler's effects commit together before the ack, and a redelivery of a handled message is acked
   * without running the handler. Handlers sharing a subscription must agree.
   */
  readonly transactional?: boolean;
  /**
   * Group commit of this transactional subscription (see `SubscriptionDefaults.groupCommit`); `false` for one
   * transaction per delivery. Handlers sharing a subscription must agree. @default the module's `defaults.groupCommit`
   */
  readonly groupCommit?: GroupCommitOptions | false;
  /**
   * Makes this a batch handler: the method gets `(events: readonly BatchedEvent<T>[])`, the deliveries that arrive
   * together, and may write them with multi-row statements. Needs `transactional: true` and a subscription of its own.
   * The inbox rows of the batch commit with its writes; if it throws, its deliveries are handled again one at a time
   * (each a one-event batch in its own savepoint), so a poison event is retried or dead-lettered alone.
   */
  readonly batch?: OnEventBatchOptions;
}

/** Options of a batch handler (`@OnEvent(..., { batch })`). */
export interface OnEventBatchOptions extends Omit<GroupCommitOptions, 'maxMessages'> {
  /** Most events per call. @default 100 */
  readonly size?: number;
}

/** What `@OnEvent` records on a method: the event class or topic patterns, and options. */
export interface OnEventMetadata {
  readonly event: EventClass | readonly string[];
  readonly options: OnEventOptions;
}

/** Metadata key of {@link OnEvent} (a reflect-metadata key on the method). */
export const ON_EVENT_METADATA = 'tidings:on-event';

/**
 * Marks a provider method as an event handler. Give an `@IntegrationEvent` class to handle that type
 * (its data is validated by the class's schema), or topic patterns (`'qa.#'`) to handle every type
 * they match. The method succeeds by returning and fails by throwing; it receives the event data
 * and an `EventContext`.
 *
 * The decorator only records metadata; the module finds handlers at bootstrap.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class NotifyAsker {
 *   @OnEvent(AnswerAdded, { retry: { maxAttempts: 4 } })
 *   async onAnswerAdded(event: AnswerAdded, context: EventContext) { ... }
 * }
 * ```
 */
export function OnEvent(event: EventClass | string | readonly string[], options: OnEventOptions = {}): MethodDecorator {
  return (target, key, descriptor) => {
    const where = `${target.constructor.name}.${String(key)}`;
    if (typeof descriptor.value !== 'function') {
      throw new ConfigurationError(`@OnEvent on ${where} must decorate a method`, 'Put @OnEvent on a method of an @Injectable() class.');
    }
    if (Reflect.hasOwnMetadata(ON_EVENT_METADATA, descriptor.value)) {
      throw new ConfigurationError(
        `${where} has more than one @OnEvent`,
        'Use one @OnEvent per method: a topic pattern list (@OnEvent([...])) or one method per event class.',
      );
    }
    const metadata: OnEventMetadata = { event: typeof event === 'string' ? [event] : event, options };
    Reflect.defineMetadata(ON_EVENT_METADATA, metadata, descriptor.value);
  };
}
