import type { TopicPattern } from '../topic/topic-pattern.js';

/**
 * A named, durable queue of events bound by topic patterns. Several consumers of the same
 * subscription (processes, or `subscribe` calls) compete for its messages; different subscriptions
 * each get their own copy.
 */
export interface Subscription {
  /** Queue name, e.g. `notifications.answers`; unique per transport broker. */
  readonly name: string;
  /** The service that owns the subscription, recorded on dead letters (e.g. `notifications`). */
  readonly service?: string;
  /** Topic patterns binding the queue (AMQP semantics). */
  readonly patterns: readonly TopicPattern[];
  /** How many unacknowledged messages the broker may push to this consumer. */
  readonly prefetch: number;
  /** How many deliveries this consumer handles at once (≤ prefetch). */
  readonly concurrency: number;
  /** Delay tiers (ms, ascending) retries may use; the transport declares one delay queue per tier. */
  readonly retryTiersMs: readonly number[];
}
