import { TidingsError } from '@tidings/core';

/** The broker could not be reached (at startup, or for longer than `publishTimeoutMs` while publishing). */
export class BrokerUnavailableError extends TidingsError {
  readonly code = 'TIDINGS_BROKER_UNAVAILABLE';

  constructor(redactedUrl: string, what: string, cause?: unknown) {
    super(`RabbitMQ at ${redactedUrl} is unavailable: ${what}`, {
      cause,
      context: { url: redactedUrl },
      hint: 'Check that RabbitMQ runs and the URL, credentials and vhost are right (bash .ci/services.sh starts the local one).',
    });
  }
}
