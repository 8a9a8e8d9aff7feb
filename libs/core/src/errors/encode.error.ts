import { TidingsError } from './tidings.error.js';

/** An event could not be serialised for publishing (a BigInt, a cycle...). Raised before anything is sent. */
export class EncodeError extends TidingsError {
  readonly code = 'TIDINGS_ENCODE_FAILED';

  constructor(type: string, cause: unknown) {
    super(`Event ${type} cannot be serialised to JSON`, {
      cause,
      context: { type },
      hint: 'Event data must be plain JSON: strings, numbers, booleans, null, arrays and objects (dates become ISO strings).',
    });
  }
}
