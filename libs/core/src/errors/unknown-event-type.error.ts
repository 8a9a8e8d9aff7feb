import { NonRetryableError } from './non-retryable.error.js';

/** A message names an event type (and version) that nothing here knows. */
export class UnknownEventTypeError extends NonRetryableError {
  override readonly code = 'TIDINGS_UNKNOWN_EVENT_TYPE';

  constructor(type: string, version: number | undefined, known: readonly string[], where: string) {
    const name = version === undefined ? type : `${type} (version ${version})`;
    super(`No handler or event class for ${name} in ${where}`, {
      context: { type, version, known, where },
      hint: `Register a class with @IntegrationEvent('${type}'${version === undefined ? '' : `, { version: ${version} }`}) and handle it, or narrow the subscription's patterns. Known here: ${known.join(', ') || 'none'}.`,
    });
  }
}
