import { Inject, Injectable } from '@nestjs/common';
import { EventEnveloper, type Envelope, type EnvelopeOptions, type Transport } from '@tidings/core';
import { EVENT_BUS_TRANSPORT } from '../module/event-bus.module-definition.js';

/**
 * Publishes integration events straight to the transport. The promise resolves once the broker has
 * durably accepted every event. (To publish atomically with a database change, use the outbox.)
 */
@Injectable()
export class EventBus {
  constructor(
    @Inject(EVENT_BUS_TRANSPORT) private readonly transport: Transport,
    private readonly enveloper: EventEnveloper,
  ) {}

  /**
   * Wraps each event (an instance of an `@IntegrationEvent` class) in an envelope and publishes them,
   * in order. Returns the envelopes, so callers know the ids.
   *
   * @example
   * ```ts
   * await bus.publish(new AnswerAdded(answerId, questionId), { partitionKey: questionId });
   * // inside a handler, to link the flow:
   * await bus.publish(new AskerNotified(...), { causedBy: context.envelope });
   * ```
   */
  async publish(events: object | readonly object[], options: EnvelopeOptions = {}): Promise<Envelope[]> {
    const envelopes = this.enveloper.wrap(events, options);
    await this.transport.publish(envelopes);
    return envelopes;
  }
}
