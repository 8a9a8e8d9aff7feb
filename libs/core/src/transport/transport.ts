import type { DeliverFn } from './delivery-outcome.js';
import type { EventLog } from './event-log.js';
import type { Subscription } from './subscription.js';
import type { TransportHealth } from './transport-health.js';
import type { Envelope } from '../envelope/envelope.js';

/**
 * The port every broker adapter implements. Kept to a few methods: everything else (decoding,
 * validation, retry decisions, dead-letter reasons) is the core's, so all transports behave alike.
 *
 * Lifecycle: `subscribe` may be called before or after `start`; once both have resolved, the
 * subscription's queue exists and is bound (a publish made after that reaches it) and consumption has
 * begun. `stop` cancels consumers, waits for in-flight deliveries to settle — they may still publish
 * meanwhile — then disconnects; undelivered messages stay in the broker. A stopped transport may be
 * started again. Calling `stop` twice returns the same drain.
 *
 * Retries: a `retry` outcome's delay is one of the subscription's `retryTiersMs`; a transport given any
 * other delay uses the smallest tier at least as long (the largest tier if none is). Dead letters keep
 * the message as published — body and every attribute — beside the reason.
 */
export interface Transport {
  /** Short name for logs and errors, e.g. `memory`, `rabbitmq`. */
  readonly name: string;
  /** Present when the transport retains an event history ({@link EventLog}). */
  readonly eventLog?: EventLog;

  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Resolves once the broker has durably accepted every envelope, and rejects if any was refused
   * or could not be routed. Transports encode with the core's `encodeEnvelope` (CloudEvents binary
   * mode) so every transport puts the same bytes on the wire.
   */
  publish(envelopes: readonly Envelope[]): Promise<void>;
  /** Registers a consumer; `deliver` decides each message's outcome and the transport realises it. */
  subscribe(subscription: Subscription, deliver: DeliverFn): Promise<void>;
  /** Optional: whether the transport can publish and consume now (health checks). Must be cheap and never throw. */
  health?(): TransportHealth;
}
