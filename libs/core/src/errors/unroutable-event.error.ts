import { TidingsError } from './tidings.error.js';

/** The broker accepted the publish but no queue was bound for the routing key. */
export class UnroutableEventError extends TidingsError {
  readonly code = 'TIDINGS_UNROUTABLE';

  constructor(type: string, id: string) {
    super(`Event ${type} (${id}) matched no subscription, so nobody would receive it`, {
      context: { type, id },
      hint: 'Start the consuming service once so its queues exist, or enable the event log so every event has a destination.',
    });
  }
}
