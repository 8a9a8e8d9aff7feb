import { NonRetryableError } from './non-retryable.error.js';
import type { TidingsErrorOptions } from './tidings.error.js';

/** A message could not be turned into an envelope: bad JSON, missing attributes, wrong shape. */
export class DecodeError extends NonRetryableError {
  override readonly code: string = 'TIDINGS_DECODE_FAILED';

  constructor(message: string, options: TidingsErrorOptions = {}) {
    super(message, {
      hint: 'The producer sent something that is not a CloudEvents 1.0 message with a JSON body; fix the producer, then replay the dead letter.',
      ...options,
    });
  }
}
