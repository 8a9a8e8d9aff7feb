import type { DeadLetterReason, DeliveryOutcome } from './delivery-outcome.js';
import type { InboundMessage } from './transport-message.js';

/** Code of the dead letter a transport makes when a `DeliverFn` broke its promise never to reject. */
export const DELIVER_FAILED = 'TIDINGS_DELIVER_FAILED';

/** Why `message` is dead-lettered after `error`, on its last attempt, failing at `now` (RFC 3339). */
export function deadLetterReason(
  code: string,
  error: unknown,
  message: Pick<InboundMessage, 'attempt' | 'failures' | 'routingKey'>,
  subscription: string,
  now: string,
): DeadLetterReason {
  return {
    code,
    errorName: error instanceof Error ? error.name : typeof error,
    message: error instanceof Error ? error.message : String(error),
    attempts: message.attempt,
    firstFailureAt: message.failures?.firstFailureAt ?? now,
    lastFailureAt: now,
    routingKey: message.routingKey,
    subscription,
  };
}

/**
 * The outcome a transport realises when a `DeliverFn` rejects (a bug: the pipeline turns every failure
 * into an outcome): keep the message, as a dead letter saying what happened, rather than loop on it or drop it.
 */
export function deliverFailedOutcome(
  error: unknown,
  message: Pick<InboundMessage, 'attempt' | 'failures' | 'routingKey'>,
  subscription: string,
): DeliveryOutcome {
  return { kind: 'deadLetter', reason: deadLetterReason(DELIVER_FAILED, error, message, subscription, new Date().toISOString()) };
}
