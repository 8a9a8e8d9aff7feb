import type { Envelope } from '../envelope/envelope.js';

/** What a handler may know about the event it handles, besides its data. Never transport types. */
export interface EventContext<T = unknown> {
  /** The whole envelope: id, type, source, time, partition key, correlation... */
  readonly envelope: Envelope<T>;
  /** 1 on the first attempt, 2 on the first retry... */
  readonly attempt: number;
  /** The subscription (queue) this delivery came through. */
  readonly subscription: string;
}
