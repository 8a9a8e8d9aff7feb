import type { DeadLetterReason, MemoryBrokerEvent, OutboundMessage } from '@tidings/core';

/** A message as the harness saw it: type and id read from its attributes (even if its body is malformed). */
export interface TrackedMessage {
  readonly type: string;
  readonly id: string;
  readonly message: OutboundMessage;
}

/** One settled delivery to one subscription. */
export interface TrackedDelivery extends TrackedMessage {
  readonly subscription: string;
  readonly attempt: number;
}

/** A delivery that ended in the dead-letter store. */
export interface TrackedDeadLetter extends TrackedDelivery {
  readonly reason: DeadLetterReason;
}

const describe = (message: OutboundMessage): TrackedMessage => ({
  type: message.attributes['type'] ?? message.routingKey,
  id: message.attributes['id'] ?? '(no id)',
  message,
});

/**
 * What happened on the bus between the start of a tracked action and the moment everything it
 * caused had settled: what was published, handled, retried and dead-lettered.
 */
export class TrackedSession {
  readonly published: TrackedMessage[] = [];
  /** Deliveries that succeeded (acked). */
  readonly handled: TrackedDelivery[] = [];
  /** Failed attempts that were scheduled for retry. */
  readonly retried: TrackedDelivery[] = [];
  readonly deadLettered: TrackedDeadLetter[] = [];

  /** @internal fed by the harness from the broker's events. */
  record(event: MemoryBrokerEvent): void {
    if (event.kind === 'published') {
      this.published.push(describe(event.message));
      return;
    }
    const delivery: TrackedDelivery = { ...describe(event.item.message), subscription: event.queue, attempt: event.item.attempt };
    if (event.outcome.kind === 'ack') this.handled.push(delivery);
    else if (event.outcome.kind === 'retry') this.retried.push(delivery);
    else this.deadLettered.push({ ...delivery, reason: event.outcome.reason });
  }

  /** Successful deliveries of `type` (to any subscription, or the one named). */
  handledOf(type: string, subscription?: string): TrackedDelivery[] {
    return this.handled.filter((d) => d.type === type && (subscription === undefined || d.subscription === subscription));
  }

  /** Dead letters of `type`, or of every type. */
  deadLettersOf(type?: string): TrackedDeadLetter[] {
    return this.deadLettered.filter((d) => type === undefined || d.type === type);
  }
}
