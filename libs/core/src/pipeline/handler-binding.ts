import type { EventDefinition } from '../events/integration-event.decorator.js';
import type { ErrorClassifier } from '../retry/error.classifier.js';
import type { RetryPolicy } from '../retry/retry.policy.js';
import type { TopicPattern } from '../topic/topic-pattern.js';
import type { EventContext } from './event-context.js';
import type { GroupCommitOptions } from './group/group-commit.options.js';

/** A handler function: succeeds by returning, fails by throwing. */
export type EventHandlerFn = (data: unknown, context: EventContext) => unknown;

/** One event of a batch: its data (upcast and validated, as a single handler would get it) and its context. */
export interface BatchedEvent<T = unknown> {
  readonly data: T;
  readonly context: EventContext<T>;
}

/** A batch handler: gets the events of one transaction, in arrival order; succeeds by returning, fails by throwing. */
export type BatchHandlerFn = (events: readonly BatchedEvent[]) => unknown;

/**
 * How a handler takes its events in batches: one call, one transaction, for the deliveries that arrive together. If it
 * throws, the batch's deliveries are handled again one at a time (each in its own savepoint, with a one-event batch),
 * so a poison event fails alone.
 */
export interface HandlerBatch extends Omit<GroupCommitOptions, 'maxMessages'> {
  readonly handle: BatchHandlerFn;
  /** Most events per call. @default 100 */
  readonly size?: number;
}

/**
 * One handler inside a subscription, with the policies that apply to its failures. A handler is
 * bound either to an event class (exact type and version) or to topic patterns (any type they match).
 */
export interface HandlerBinding {
  /** For logs and dead-letter reasons, e.g. `NotifyAsker.onAnswerAdded`. */
  readonly name: string;
  readonly target: { readonly event: EventDefinition } | { readonly patterns: readonly TopicPattern[] };
  readonly handle: EventHandlerFn;
  /** Present when the handler takes its events in batches; then `handle` is not called. */
  readonly batch?: HandlerBatch;
  readonly retry: RetryPolicy;
  readonly classifier: ErrorClassifier;
}
