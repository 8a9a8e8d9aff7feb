import type { InboundMessage } from './transport-message.js';

/** Why a message was dead-lettered: stored with it so people can decide whether to replay it. */
export interface DeadLetterReason {
  /** Stable error code, e.g. `TIDINGS_EVENT_INVALID` (`TIDINGS_HANDLER_FAILED` for plain errors). */
  readonly code: string;
  /** Error class name. */
  readonly errorName: string;
  /** Error message. */
  readonly message: string;
  /** How many attempts were made, this one included. */
  readonly attempts: number;
  /** When the first attempt failed (RFC 3339). */
  readonly firstFailureAt: string;
  /** When the last attempt failed (RFC 3339). */
  readonly lastFailureAt: string;
  /** The routing key the message was published with. */
  readonly routingKey: string;
  /** Subscription (queue) that gave up on it. */
  readonly subscription: string;
}

/**
 * What a subscription decided about one delivery; the transport realises it. For `retry` and
 * `deadLetter` the transport must first store the message at its destination, then settle the
 * original: a crash between the two steps duplicates the message instead of losing it.
 */
export type DeliveryOutcome =
  | { readonly kind: 'ack' }
  | {
      readonly kind: 'retry';
      /** One of the subscription's delay tiers. */
      readonly delayMs: number;
      readonly failure: { readonly errorName: string; readonly message: string; readonly at: string; readonly firstFailureAt: string };
    }
  | { readonly kind: 'deadLetter'; readonly reason: DeadLetterReason };

/** Turns one inbound message into an outcome. Never rejects: failures are outcomes. */
export type DeliverFn = (message: InboundMessage) => Promise<DeliveryOutcome>;
