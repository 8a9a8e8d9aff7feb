import type { Channel, ConsumeMessage } from 'amqplib';

/**
 * Pull-style reading of a stream queue over a push consumer: `next()` resolves with the next delivery
 * (acked, so the prefetch window keeps moving) or rejects if the queue disappears or the channel closes.
 */
export class StreamReader {
  private readonly buffered: ConsumeMessage[] = [];
  private wake: (() => void) | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly channel: Channel,
    private readonly queue: string,
  ) {
    channel.once('close', () => this.fail(new Error(`the channel reading stream ${queue} closed`)));
  }

  async open(prefetch: number, offset: number | 'next' | 'first'): Promise<void> {
    await this.channel.prefetch(prefetch);
    await this.channel.consume(
      this.queue,
      (message) => {
        if (!message) return this.fail(new Error(`stream ${this.queue} was deleted while reading`));
        this.channel.ack(message);
        this.buffered.push(message);
        this.wake?.();
      },
      { noAck: false, arguments: { 'x-stream-offset': offset } },
    );
  }

  async next(timeoutMs?: number): Promise<ConsumeMessage> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      while (this.buffered.length === 0 && !this.failure) {
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
      this.wake = undefined;
    }
    const message = this.buffered.shift();
    if (message) return message;
    throw this.failure;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake?.();
  }
}
