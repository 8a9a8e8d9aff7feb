import { TidingsError } from './tidings.error.js';

/** Two different classes claim the same event type and version. */
export class DuplicateEventTypeError extends TidingsError {
  readonly code = 'TIDINGS_DUPLICATE_EVENT_TYPE';

  constructor(type: string, version: number, existing: string, incoming: string) {
    super(`Event type ${type} version ${version} is claimed by both ${existing} and ${incoming}`, {
      context: { type, version, existing, incoming },
      hint: 'An event type string is a contract between services: give each class its own type, or give the newer one a higher version.',
    });
  }
}
