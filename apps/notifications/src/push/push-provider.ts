/** One push notification to one user's devices. */
export interface PushMessage {
  readonly userId: string;
  readonly title: string;
  readonly body: string;
  /**
   * Identifies what the push is about (here the answer id). A redelivered message can push twice (see
   * `NotifyAsker`); real providers collapse pushes with the same key (APNs `apns-collapse-id`, FCM `collapse_key`).
   */
  readonly collapseKey: string;
}

/**
 * The port to a push service (APNs, FCM, a vendor). `send` resolves once the provider accepted the push, and rejects
 * with a `RetryableError` when it may work later, or a `NonRetryableError` when it never will: the event bus reads
 * the class to retry or dead-letter, so handlers need not catch anything.
 *
 * An abstract class rather than an interface so that it can be the Nest injection token.
 */
export abstract class PushProvider {
  abstract send(push: PushMessage): Promise<void>;
}
