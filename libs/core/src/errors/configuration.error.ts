import { TidingsError, type ErrorContext } from './tidings.error.js';

/** Invalid options or wiring, raised at construction or startup, never while handling messages. */
export class ConfigurationError extends TidingsError {
  readonly code = 'TIDINGS_INVALID_CONFIGURATION';

  constructor(message: string, hint: string, context: ErrorContext = {}) {
    super(message, { hint, context });
  }
}
