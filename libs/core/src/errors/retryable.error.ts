import { TidingsError, type TidingsErrorOptions } from './tidings.error.js';

/**
 * Throw from a handler to say "this may work later" (a timeout, a 503 from a dependency).
 * Unknown errors are treated the same way; this class makes the intent explicit.
 */
export class RetryableError extends TidingsError {
  readonly code: string = 'TIDINGS_RETRYABLE';

  constructor(message: string, options: TidingsErrorOptions = {}) {
    super(message, options);
  }
}
