import type { Channel, ConsumeMessage } from 'amqplib';

/**
 * Acks a channel's deliveries in as few frames as it can: acks requested in one turn of the event loop go out together
 * at its end, as one multiple-ack up to the highest tag below which every delivery is being acked, then one ack for
 * each of the rest. Group commit settles whole groups at once, so under load most acks become one frame; the broker,
 * the busiest part of the system, processes one frame instead of dozens. A tag below an unsettled delivery is never
 * covered by a multiple-ack, so nothing is acked that was not handled.
 */
export class AckCoalescer {
  /** Deliveries received on the channel and not yet acked or nacked, by tag. */
  private readonly unsettled = new Map<number, ConsumeMessage>();
  private requested: ConsumeMessage[] = [];
  private flushing: ReturnType<typeof setImmediate> | undefined;

  constructor(
    private readonly channel: Channel,
    /** Reports a failure to write a frame (the channel closed meanwhile: the broker redelivers, the inbox absorbs it). */
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Records a delivery received on the channel. */
  received(message: ConsumeMessage): void {
    this.unsettled.set(message.fields.deliveryTag, message);
  }

  /** Acks `message` at the end of this turn of the event loop. */
  ack(message: ConsumeMessage): void {
    this.requested.push(message);
    this.flushing ??= setImmediate(() => this.flush());
  }

  /** Nacks `message` now, giving it back to the queue. */
  requeue(message: ConsumeMessage): void {
    this.unsettled.delete(message.fields.deliveryTag);
    this.write(() => this.channel.nack(message, false, true));
  }

  /** Sends the acks requested so far; called at the end of the turn, and before the channel closes. */
  flush(): void {
    clearImmediate(this.flushing);
    this.flushing = undefined;
    if (this.requested.length === 0) return;
    const acking = new Set(this.requested.map((message) => message.fields.deliveryTag));
    this.requested = [];
    const tags = [...this.unsettled.keys()].sort((a, b) => a - b);
    let upTo: ConsumeMessage | undefined;
    for (const tag of tags) {
      if (!acking.has(tag)) break;
      upTo = this.unsettled.get(tag);
    }
    if (upTo) {
      const last = upTo.fields.deliveryTag;
      for (const tag of tags) {
        if (tag > last) break;
        this.unsettled.delete(tag);
        acking.delete(tag);
      }
      const multiple = upTo;
      this.write(() => this.channel.ack(multiple, true));
    }
    for (const tag of acking) {
      const message = this.unsettled.get(tag);
      if (!message) continue;
      this.unsettled.delete(tag);
      this.write(() => this.channel.ack(message));
    }
  }

  private write(frame: () => void): void {
    try {
      frame();
    } catch (error) {
      this.onError(error);
    }
  }
}
