import { Inject, Injectable } from '@nestjs/common';
import {
  ConfigurationError,
  createEnvelope,
  EventTypeRegistry,
  type Envelope,
  type EnvelopeOptions,
  type EventClass,
  type Transport,
} from '@tidings/core';
import { EVENT_BUS_OPTIONS, EVENT_BUS_TRANSPORT } from '../module/event-bus.module-definition.js';
import type { EventBusModuleOptions } from '../module/event-bus.options.js';

/**
 * Publishes integration events straight to the transport. The promise resolves once the broker has
 * durably accepted every event. (To publish atomically with a database change, use the outbox.)
 */
@Injectable()
export class EventBus {
  constructor(
    @Inject(EVENT_BUS_OPTIONS) private readonly options: EventBusModuleOptions,
    @Inject(EVENT_BUS_TRANSPORT) private readonly transport: Transport,
    private readonly registry: EventTypeRegistry,
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
    const list: readonly object[] = Array.isArray(events) ? events : [events];
    if (options.id !== undefined && list.length > 1) {
      throw new ConfigurationError(
        'EventBus.publish: an explicit id was given for several events',
        'Ids must be unique: publish the events one by one.',
      );
    }
    const envelopes = list.map((event) => {
      const definition = this.registry.register(event.constructor as EventClass);
      return createEnvelope({ ...options, type: definition.type, version: definition.version, source: this.options.service, data: event });
    });
    await this.transport.publish(envelopes);
    return envelopes;
  }
}
