import { ConfigurationError } from '../errors/configuration.error.js';
import type { EventClass } from '../events/integration-event.decorator.js';
import type { EventTypeRegistry } from '../events/event-type.registry.js';
import type { Envelope } from './envelope.js';
import { createEnvelope, type EnvelopeOptions } from './envelope.factory.js';

/**
 * Wraps instances of `@IntegrationEvent` classes in envelopes for one publishing service. Shared by
 * every way of publishing (straight to the transport, or through the outbox) so both produce the same
 * envelopes.
 */
export class EventEnveloper {
  constructor(
    /** The publishing service: every envelope's `source`. */
    readonly source: string,
    private readonly registry: EventTypeRegistry,
  ) {}

  /** One envelope per event, in order. An explicit `id` is only allowed for a single event (ids are unique). */
  wrap(events: object | readonly object[], options: EnvelopeOptions = {}): Envelope[] {
    const list: readonly object[] = Array.isArray(events) ? events : [events];
    if (options.id !== undefined && list.length > 1) {
      throw new ConfigurationError(
        'An explicit event id was given for several events',
        'Ids must be unique: publish the events one by one.',
      );
    }
    return list.map((event) => {
      const definition = this.registry.register(event.constructor as EventClass);
      return createEnvelope({ ...options, type: definition.type, version: definition.version, source: this.source, data: event });
    });
  }
}
