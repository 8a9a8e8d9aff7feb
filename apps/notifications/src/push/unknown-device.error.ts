import { NonRetryableError } from '@tidings/core';

/** The user has no registered device: no retry can deliver the push, so its message is dead-lettered at once. */
export class UnknownDeviceError extends NonRetryableError {
  override readonly code = 'NOTIFY_UNKNOWN_DEVICE';

  constructor(userId: string) {
    super(`User ${userId} has no registered device`, {
      context: { userId },
      hint: 'Replay the dead letter once the user registered a device; NOTIFY_UNREGISTERED_USERS lists the simulated ones.',
    });
  }
}
