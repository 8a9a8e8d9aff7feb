import { ConfigurationError } from '@tidings/core';
import type { RabbitMqTlsOptions, RabbitMqTransportOptions, ReconnectOptions, TransportLogger } from './rabbitmq-transport.options.js';
import { redactUrl } from './redact-url.js';

/** Options with defaults applied and checked. */
export interface ResolvedRabbitMqOptions {
  readonly url: string;
  readonly socketOptions: Record<string, unknown>;
  readonly connectionName: string;
  readonly exchange: string;
  readonly queueType: 'quorum' | 'classic';
  readonly deliveryLimit: number;
  readonly publishWindow: number;
  readonly publishTimeoutMs: number;
  readonly heartbeatSeconds: number;
  readonly reconnect: Required<ReconnectOptions>;
  readonly eventLog: { readonly queue: string; readonly maxAge?: string; readonly maxLengthBytes?: number } | undefined;
  readonly logger: TransportLogger;
}

const positiveInteger = (name: string, value: number): number => {
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigurationError(`RabbitMQ option ${name} must be a whole number from 1, got ${String(value)}`, `Fix ${name}.`, {
      option: name,
    });
  }
  return value;
};

/**
 * Only the documented TLS settings pass to the socket: certificate and host name verification stay on
 * (`rejectUnauthorized` forced, Node's own `checkServerIdentity`), even for a JavaScript caller passing more.
 */
function tlsSocketOptions(tls: RabbitMqTlsOptions): Record<string, unknown> {
  const allowed = ['ca', 'cert', 'key', 'passphrase', 'servername'] as const;
  const picked: Record<string, unknown> = { rejectUnauthorized: true };
  for (const name of allowed) if (tls[name] !== undefined) picked[name] = tls[name];
  return picked;
}

/** Applies defaults and fails with a message naming the option; never echoes the password. */
export function resolveOptions(options: RabbitMqTransportOptions): ResolvedRabbitMqOptions {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new ConfigurationError(
      `RabbitMQ option url is not a URL: ${redactUrl(String(options.url))}`,
      'Use amqp://user:password@host:5672/vhost.',
    );
  }
  if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:') {
    throw new ConfigurationError(
      `RabbitMQ option url must use amqp:// or amqps://, got ${url.protocol}`,
      'Use amqp://user:password@host:5672/vhost.',
    );
  }
  if (options.tls && url.protocol !== 'amqps:') {
    throw new ConfigurationError(
      'RabbitMQ option tls is set but the url is not amqps://',
      'Use an amqps:// URL (port 5671 by default) with TLS options.',
    );
  }
  const queueType = options.queueType ?? 'quorum';
  if (queueType !== 'quorum' && queueType !== 'classic') {
    throw new ConfigurationError(
      `RabbitMQ option queueType must be 'quorum' or 'classic', got ${String(queueType)}`,
      "Choose 'quorum' (default) or 'classic'.",
    );
  }
  const eventLog = options.eventLog === true ? {} : options.eventLog || undefined;
  const jitter = options.reconnect?.jitter ?? 0.3;
  if (!(jitter >= 0 && jitter < 1))
    throw new ConfigurationError(`RabbitMQ option reconnect.jitter must be in [0, 1), got ${jitter}`, 'Use e.g. 0.3.');
  return {
    url: options.url,
    socketOptions: options.tls ? tlsSocketOptions(options.tls) : {},
    connectionName: options.connectionName ?? 'tidings',
    exchange: options.exchange ?? 'tidings.events',
    queueType,
    deliveryLimit: positiveInteger('deliveryLimit', options.deliveryLimit ?? 20),
    publishWindow: positiveInteger('publishWindow', options.publishWindow ?? 1000),
    publishTimeoutMs: positiveInteger('publishTimeoutMs', options.publishTimeoutMs ?? 30_000),
    heartbeatSeconds: positiveInteger('heartbeatSeconds', options.heartbeatSeconds ?? 15),
    reconnect: {
      initialDelayMs: positiveInteger('reconnect.initialDelayMs', options.reconnect?.initialDelayMs ?? 500),
      maxDelayMs: positiveInteger('reconnect.maxDelayMs', options.reconnect?.maxDelayMs ?? 30_000),
      jitter,
    },
    eventLog: eventLog && { ...eventLog, queue: eventLog.queue ?? 'tidings.log' },
    logger: options.logger ?? console,
  };
}
