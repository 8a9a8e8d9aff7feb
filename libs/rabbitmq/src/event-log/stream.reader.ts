import type { Channel, ConsumeMessage } from 'amqplib';

/** Entries handed out between two acks (each acks every delivery up to it): far below any useful prefetch. */
const ACK_EVERY = 200;

/** Options of {@link StreamReader.next}. */
export interface StreamReaderNextOptions {
  /** Fail if nothing arrives within this long. @default wait without limit */
  readonly timeoutMs?: number;
  /** Stop waiting once it aborts: `next` then resolves with `undefined`. */
  readonly signal?: AbortSignal;
}

/**
 * Pull-style reading of a stream queue over a push consumer: `next()` resolves with the next delivery
 * or rejects if the queue disappears or the channel closes. A delivery is acked only when `next()` hands
 * it out, so the broker sends at most the prefetch window (plus the rest of a chunk) ahead of the caller.
 */
export class StreamReader {
  private readonly waiting: ConsumeMessage[] = [];
  private takenSinceAck = 0;
  private wake: (() => void) | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly channel: Channel,
    private readonly queue: string,
  ) {
    channel.once('close', () => this.fail(new Error(`the channel reading stream ${queue} closed`)));
  }

  /** Deliveries received and not yet handed out by {@link next}: what this reader holds in memory. */
  get buffered(): number {
    return this.waiting.length;
  }

  /** Starts consuming at `offset`; a number beyond the stream's end waits for that offset to be written. */
  async open(prefetch: number, offset: number | 'next' | 'first'): Promise<void> {
    await this.channel.prefetch(prefetch);
    await this.channel.consume(
      this.queue,
      (message) => {
        if (!message) return this.fail(new Error(`stream ${this.queue} was deleted while reading`));
        this.waiting.push(message);
        this.wake?.();
      },
      { noAck: false, arguments: { 'x-stream-offset': offset } },
    );
  }

  /** The next delivery; `undefined` only once `options.signal` aborted, even while waiting. */
  next(options?: { readonly timeoutMs?: number }): Promise<ConsumeMessage>;
  next(options: StreamReaderNextOptions): Promise<ConsumeMessage | undefined>;
  async next(options: StreamReaderNextOptions = {}): Promise<ConsumeMessage | undefined> {
    const { timeoutMs, signal } = options;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const interrupt = (): void => this.wake?.();
    signal?.addEventListener('abort', interrupt);
    try {
      while (this.waiting.length === 0 && !this.failure && !signal?.aborted) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          if (timeoutMs !== undefined) {
            timer = setTimeout(() => this.fail(new Error(`nothing arrived from stream ${this.queue} within ${timeoutMs} ms`)), timeoutMs);
          }
        });
        clearTimeout(timer);
      }
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', interrupt);
      this.wake = undefined;
    }
    if (signal?.aborted) return undefined;
    const message = this.waiting.shift();
    if (!message) throw this.failure;
    // Credit the broker only now: the prefetch window then bounds what waits here, however slow the caller.
    // A closed channel has nothing to credit (and amqplib throws on an ack there). Acks go out in groups (one
    // `multiple` ack), since one frame, and one packet, per entry costs a replay about a fifth of its time; and at once
    // when nothing else waits, so a slow trickle is credited as it goes.
    if (!this.failure) {
      this.takenSinceAck += 1;
      if (this.takenSinceAck >= ACK_EVERY || this.waiting.length === 0) {
        this.channel.ack(message, true);
        this.takenSinceAck = 0;
      }
    }
    return message;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake?.();
  }
}
