import { TidingsError, type TidingsErrorOptions } from './tidings.error.js';

/**
 * Throw from a handler when retrying cannot help (the input is wrong, the target is gone):
 * the message goes to the dead-letter destination after this one attempt.
 *
 * Decode and validation errors extend it, so they dead-letter at once too.
 */
export class NonRetryableError extends TidingsError {
  readonly code: string = 'TIDINGS_NON_RETRYABLE';

  constructor(message: string, options: TidingsErrorOptions = {}) {
    super(message, options);
  }
}
