import type { EventDefinition } from '../events/integration-event.decorator.js';
import type { ErrorClassifier } from '../retry/error.classifier.js';
import type { RetryPolicy } from '../retry/retry.policy.js';
import type { TopicPattern } from '../topic/topic-pattern.js';
import type { EventContext } from './event-context.js';

/** A handler function: succeeds by returning, fails by throwing. */
export type EventHandlerFn = (data: unknown, context: EventContext) => unknown;

/**
 * One handler inside a subscription, with the policies that apply to its failures. A handler is
 * bound either to an event class (exact type and version) or to topic patterns (any type they match).
 */
export interface HandlerBinding {
  /** For logs and dead-letter reasons, e.g. `NotifyAsker.onAnswerAdded`. */
  readonly name: string;
  readonly target: { readonly event: EventDefinition } | { readonly patterns: readonly TopicPattern[] };
  readonly handle: EventHandlerFn;
  readonly retry: RetryPolicy;
  readonly classifier: ErrorClassifier;
}
