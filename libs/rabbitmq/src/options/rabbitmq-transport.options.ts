import type { TidingsLogger } from '@tidings/core';
/** TLS settings for `amqps://` URLs. The server's certificate and host name are always verified. */
export interface RabbitMqTlsOptions {
  /** Trusted CA certificates (PEM), when the server's CA is not in Node's default store. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** Client certificate (PEM), for mutual TLS. */
  readonly cert?: string | Buffer;
  /** Client private key (PEM), for mutual TLS. */
  readonly key?: string | Buffer;
  /** Passphrase of `key`. */
  readonly passphrase?: string;
  /** Host name to verify against the certificate (SNI), when it differs from the URL's host. */
  readonly servername?: string;
}

/** Reconnection backoff after a lost connection. */
export interface ReconnectOptions {
  /** @default 500 */
  readonly initialDelayMs?: number;
  /** @default 30000 */
  readonly maxDelayMs?: number;
  /** Random spread as a fraction (0.3 = ±30%), so many clients do not reconnect in step. @default 0.3 */
  readonly jitter?: number;
}

/** The optional retained history: a stream queue bound to the exchange with `#`. */
export interface EventLogOptions {
  /** Stream queue name. @default 'tidings.log' */
  readonly queue?: string;
  /** Retention by age, RabbitMQ syntax (`7D`, `12h`). @default none (keep everything within size limits) */
  readonly maxAge?: string;
  /** Retention by size in bytes. @default none */
  readonly maxLengthBytes?: number;
}

/** Options of the {@link RabbitMqTransport}. */
export interface RabbitMqTransportOptions {
  /** `amqp://user:pass@host:5672/vhost` or `amqps://...`. The password never appears in logs or errors. */
  readonly url: string;
  /** TLS settings, for `amqps://` URLs only. */
  readonly tls?: RabbitMqTlsOptions;
  /** Shown as the connection name in the management UI, suffixed with ` (publisher)` / ` (consumer)`. @default 'tidings' */
  readonly connectionName?: string;
  /** The topic exchange events are published to. @default 'tidings.events' */
  readonly exchange?: string;
  /** Type of subscription, retry and dead-letter queues. Quorum queues are replicated and safer. @default 'quorum' */
  readonly queueType?: 'quorum' | 'classic';
  /**
   * Quorum queues only: deliveries of one message (crash loops included) after which the broker moves it
   * to the dead-letter queue by itself. A safety net for messages that crash the process. @default 20
   */
  readonly deliveryLimit?: number;
  /** Publishes awaiting confirmation at once, per connection (the rest wait). @default 1000 */
  readonly publishWindow?: number;
  /**
   * How long one publish may take, from waiting for a connection to the broker's confirm. Past it the message
   * fails as `unconfirmed` (the broker unreachable, or blocking publishers during a resource alarm). @default 30000
   */
  readonly publishTimeoutMs?: number;
  /** AMQP heartbeat in seconds; a dead peer is detected within about two of them. @default 15 */
  readonly heartbeatSeconds?: number;
  /** Reconnection after a lost connection. */
  readonly reconnect?: ReconnectOptions;
  /** Keep every event in a stream queue readable from an offset (the transport's `eventLog`). @default off */
  readonly eventLog?: boolean | EventLogOptions;
  /** Where connection events are logged. @default console */
  readonly logger?: TransportLogger;
}

/** The few logging calls the transport makes; Nest's `LoggerService` fits. */
export type TransportLogger = TidingsLogger;
