import { DecodeError } from './decode.error.js';

/** A message body is larger than the configured limit; it is rejected before being parsed. */
export class PayloadTooLargeError extends DecodeError {
  override readonly code = 'TIDINGS_PAYLOAD_TOO_LARGE';

  constructor(sizeBytes: number, limitBytes: number) {
    super(`Message body is ${sizeBytes} bytes, above the limit of ${limitBytes} bytes`, {
      context: { sizeBytes, limitBytes },
      hint: 'Publish a reference (an id or a URL) instead of the large content, or raise maxMessageBytes on both sides.',
    });
  }
}
