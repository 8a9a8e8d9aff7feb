import { RetryableError } from '@tidings/core';

/** The push service did not accept the push this time (a timeout, a 503): retrying later may work. */
export class PushUnavailableError extends RetryableError {
  override readonly code = 'NOTIFY_PUSH_UNAVAILABLE';

  constructor(userId: string) {
    super(`The push service is unavailable; the push to ${userId} was not sent`, {
      context: { userId },
      hint: 'Transient: the event bus retries it. NOTIFY_FAILURE_RATE sets how often the simulated provider fails.',
    });
  }
}
