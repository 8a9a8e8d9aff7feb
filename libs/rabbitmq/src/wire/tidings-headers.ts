/** AMQP header names Tidings sets. Documented in docs/rabbitmq.md; operators read them in the DLQ. */
export const TidingsHeader = {
  /** Attempt number of the next delivery (1-based); absent on a first delivery. */
  attempt: 'x-tidings-attempt',
  /** When the first attempt failed (RFC 3339). */
  firstFailureAt: 'x-tidings-first-failure-at',
  /** When the last attempt failed (RFC 3339); on dead letters. */
  lastFailureAt: 'x-tidings-last-failure-at',
  /** Error class name of the last failure. */
  errorName: 'x-tidings-error-name',
  /** Error message of the last failure (truncated to 1,000 characters). */
  errorMessage: 'x-tidings-error-message',
  /** Stable error code (e.g. TIDINGS_EVENT_INVALID); on dead letters. */
  errorCode: 'x-tidings-error-code',
  /** Attempts made in all; on dead letters. */
  attempts: 'x-tidings-attempts',
  /** The routing key the event was first published with (retries travel through the default exchange). */
  routingKey: 'x-tidings-routing-key',
  /** Service and subscription that dead-lettered the message. */
  service: 'x-tidings-service',
  subscription: 'x-tidings-subscription',
} as const;

/** Prefix of CloudEvents attributes in AMQP headers (CloudEvents AMQP binding, binary mode). */
export const CLOUDEVENTS_HEADER_PREFIX = 'cloudEvents_';
/** The spec's other spelling, accepted from foreign producers. */
export const CLOUDEVENTS_HEADER_PREFIX_ALT = 'cloudEvents:';

/** Headers the broker adds (dead-lettering, quorum delivery counts); dropped when we republish, so they do not grow. */
export const BROKER_DEATH_HEADERS = [
  'x-delivery-count',

  'x-death',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-last-death-exchange',
  'x-last-death-queue',
  'x-last-death-reason',
];
