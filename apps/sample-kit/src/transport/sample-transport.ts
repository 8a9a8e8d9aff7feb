import { RabbitMqTransport } from '@tidings/rabbitmq';
import type { ConnectionsConfig } from '../config/connections.config.js';

/** The event-bus service name of one sample service: its base name, inside the configured namespace. */
export function serviceName(config: Pick<ConnectionsConfig, 'namespace'>, base: string): string {
  return `${config.namespace}${base}`;
}

/** The stream queue holding the sample's event history, inside the configured namespace. */
export function eventLogQueue(config: Pick<ConnectionsConfig, 'namespace'>): string {
  return `${config.namespace}tidings.log`;
}

/**
 * The RabbitMQ transport of one sample service; the connection is named after the service in the management UI.
 * With `eventLog`, it declares the event history (a stream bound to the exchange) at start: the producer of the events
 * must, so that history begins with its first event, and the feed, which projects from it.
 */
export function sampleTransport(config: ConnectionsConfig, base: string, options: { readonly eventLog?: boolean } = {}): RabbitMqTransport {
  return new RabbitMqTransport({
    url: config.rabbitMqUrl,
    exchange: config.exchange,
    connectionName: serviceName(config, base),
    ...(options.eventLog && { eventLog: { queue: eventLogQueue(config) } }),
  });
}
