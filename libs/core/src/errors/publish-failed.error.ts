import { TidingsError } from './tidings.error.js';

/** Why the broker did not accept one message. */
export type PublishFailureReason =
  /** No queue (nor event log) is bound for its routing key: nobody would receive it. */
  | 'unroutable'
  /** The broker refused it (a nack, a missing exchange). */
  | 'refused'
  /** The channel or connection closed before the broker confirmed it: it may or may not have been stored. */
  | 'unconfirmed';

/** One message of a publish call that was not accepted. */
export interface PublishFailure {
  readonly id: string;
  readonly type: string;
  readonly reason: PublishFailureReason;
  /** What the broker or client said, for people. */
  readonly detail: string;
}

/**
 * Some messages of a `Transport.publish` call were not accepted; every other message of the call was.
 * Retry only the failed ones (by id: consumers deduplicate, so an `unconfirmed` one that did arrive is harmless).
 */
export class PublishFailedError extends TidingsError {
  readonly code = 'TIDINGS_PUBLISH_FAILED';

  constructor(
    readonly failures: readonly PublishFailure[],
    readonly accepted: number,
  ) {
    const shown = failures.slice(0, 3).map((f) => `${f.type} ${f.id} ${f.reason}: ${f.detail}`);
    super(
      `${failures.length} of ${failures.length + accepted} events were not accepted by the broker: ${shown.join('; ')}${failures.length > 3 ? '; …' : ''}`,
      {
        context: { failed: failures.length, accepted, failures: failures.slice(0, 20) },
        hint: failures.some((f) => f.reason === 'unroutable')
          ? 'Unroutable: no subscription binds this type yet. Start the consuming service once so its queues exist, or enable the event log.'
          : 'The broker went away or refused the messages: retry the failed ones; consumers deduplicate by id.',
      },
    );
  }
}
