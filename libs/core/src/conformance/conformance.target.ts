import type { DeadLetterReason } from '../transport/delivery-outcome.js';
import type { Transport } from '../transport/transport.js';
import type { OutboundMessage } from '../transport/transport-message.js';

/** A message found in a subscription's dead-letter destination, with why it is there. */
export interface DeadLetterRecord {
  readonly message: OutboundMessage;
  readonly reason: DeadLetterReason;
}

/** What a transport promises beyond the basics; the suite runs the matching tests only. */
export interface TransportFeatures {
  /** Messages of one subscription with one consumer and concurrency 1 arrive in publish order. */
  readonly ordering: boolean;
  /** Messages survive a restart of the broker process (not tested by the suite; documented). */
  readonly persistence: boolean;
  /** The transport exposes an {@link EventLog}. */
  readonly eventLog: boolean;
  /** An event no subscription (nor log) receives is refused (PublishFailedError, `unroutable`); the rest of its batch is delivered. */
  readonly rejectsUnroutable: boolean;
}

/**
 * One isolated broker namespace for one test: every transport created from it talks to the same
 * broker, so two of them are two processes of the same application (competing consumers) or two
 * services (fan-out). Names are unique per target, so tests may run in parallel.
 */
export interface ConformanceTarget {
  /** A unique prefix to put in subscription names (e.g. `t3f9a.`), so tests never share queues. */
  readonly prefix: string;
  /** Creates a new, not yet started transport connected to this target's broker. */
  createTransport(options: { readonly service: string }): Transport;
  /** Puts raw bytes on the broker as if a foreign producer had sent them. */
  publishRaw(message: OutboundMessage): Promise<void>;
  /** Dead letters of a subscription so far, oldest first. */
  deadLetters(subscription: string): Promise<readonly DeadLetterRecord[]>;
  /** Stops everything created, deletes what was declared. */
  dispose(): Promise<void>;
}

/** Creates a fresh target per test. */
export type ConformanceTargetFactory = () => Promise<ConformanceTarget>;
