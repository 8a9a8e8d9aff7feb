import { RabbitMqTransport } from '@tidings/rabbitmq';
import type { ConnectionsConfig } from '../config/connections.config.js';

/** The event-bus service name of one sample service: its base name, inside the configured namespace. */
export function serviceName(config: Pick<ConnectionsConfig, 'namespace'>, base: string): string {
  return `${config.namespace}${base}`;
}

/** The RabbitMQ transport of one sample service; the connection is named after the service in the management UI. */
export function sampleTransport(config: ConnectionsConfig, base: string): RabbitMqTransport {
  return new RabbitMqTransport({ url: config.rabbitMqUrl, exchange: config.exchange, connectionName: serviceName(config, base) });
}
