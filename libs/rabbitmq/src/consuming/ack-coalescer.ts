import type { Channel, ConsumeMessage } from 'amqplib';

/** How long an ack may wait for the deliveries below it to settle, so that one multiple-ack covers them all. */
const HOLD_MS = 20;

/**
 * Acks a channel's deliveries in as few frames as it can. Acks requested in one turn of the event loop go out at its
 * end as one multiple-ack up to the highest tag below which every delivery is being acked. An ack above a delivery
 * still in progress (a later group that committed before an earlier one) is held for up to {@link HOLD_MS}, so the
 * earlier group's multiple-ack covers it too; past that it goes out alone, so a slow delivery never stalls the rest.
 * Group commit settles whole groups at once, so under load most acks become one frame: the broker, the busiest part of
 * the system, reads one frame instead of dozens, and this process makes one write instead of dozens. A multiple-ack
 * never covers an unsettled delivery, so nothing is acked that was not handled.
 */
export class AckCoalescer {
  /** Deliveries received on the channel and not yet acked or nacked, in delivery (tag) order. */
  private readonly unsettled = new Map<number, ConsumeMessage>();
  /** Acks asked for and not yet sent, with when they were asked for. */
  private readonly requested = new Map<number, number>();
  private flushing: ReturnType<typeof setImmediate> | undefined;
  private holding: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly channel: Channel,
    /** Reports a failure to write a frame (the channel closed meanwhile: the broker redelivers, the inbox absorbs it). */
    private readonly onError: (error: unknown) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Records a delivery received on the channel. */
  received(message: ConsumeMessage): void {
    this.unsettled.set(message.fields.deliveryTag, message);
  }

  /** Acks `message` at the end of this turn of the event loop, or with the deliveries below it. */
  ack(message: ConsumeMessage): void {
    this.requested.set(message.fields.deliveryTag, this.now());
    this.flushing ??= setImmediate(() => this.flush());
  }

  /** Nacks `message` now, giving it back to the queue. */
  requeue(message: ConsumeMessage): void {
    this.unsettled.delete(message.fields.deliveryTag);
    this.write(() => this.channel.nack(message, false, true));
    // It may have been the gap that held acks above it back.
    this.flushing ??= setImmediate(() => this.flush());
  }

  /** Sends the acks that can go as one multiple-ack, and those held long enough; `all` sends every one (closing). */
  flush(all = false): void {
    clearImmediate(this.flushing);
    clearTimeout(this.holding);
    this.flushing = undefined;
    this.holding = undefined;
    if (this.requested.size === 0) return;
    let upTo: ConsumeMessage | undefined;
    for (const [tag, message] of this.unsettled) {
      if (!this.requested.has(tag)) break;
      upTo = message;
    }
    if (upTo) {
      const last = upTo.fields.deliveryTag;
      for (const tag of this.unsettled.keys()) {
        if (tag > last) break;
        this.unsettled.delete(tag);
        this.requested.delete(tag);
      }
      const multiple = upTo;
      this.write(() => this.channel.ack(multiple, true));
    }
    const now = this.now();
    let nextDue = Infinity;
    for (const [tag, since] of this.requested) {
      const message = this.unsettled.get(tag);
      if (!message) {
        this.requested.delete(tag);
      } else if (all || now - since >= HOLD_MS) {
        this.unsettled.delete(tag);
        this.requested.delete(tag);
        this.write(() => this.channel.ack(message));
      } else {
        nextDue = Math.min(nextDue, since + HOLD_MS);
      }
    }
    if (nextDue !== Infinity) {
      this.holding = setTimeout(() => this.flush(), Math.max(0, nextDue - now));
      this.holding.unref();
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
