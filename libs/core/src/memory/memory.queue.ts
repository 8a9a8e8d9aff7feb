import type { TopicPattern } from '../topic/topic-pattern.js';
import type { DeliverFn, DeliveryOutcome } from '../transport/delivery-outcome.js';
import { deliverFailedOutcome } from '../transport/delivery-failure.js';
import type { FailureHistory, OutboundMessage } from '../transport/transport-message.js';

/** A message waiting in a memory queue, with the attempt it will be delivered as. */
export interface QueuedMessage {
  readonly message: OutboundMessage;
  readonly attempt: number;
  readonly failures?: FailureHistory;
}

/** One consumer attached to a queue (a `subscribe` call of a started transport). */
export interface MemoryConsumer {
  readonly deliver: DeliverFn;
  readonly capacity: number;
  inFlight: number;
  readonly running: Set<Promise<void>>;
}

/** Called when a delivery settled; the broker realises the outcome (retry timer, dead-letter store). */
export type SettleFn = (queue: MemoryQueue, item: QueuedMessage, outcome: DeliveryOutcome) => void;

/**
 * A FIFO queue with competing consumers, dispatched round-robin up to each consumer's capacity.
 * Deliveries start on a microtask, never inside `enqueue`, so publishing never runs handlers re-entrantly.
 */
export class MemoryQueue {
  private readonly items: QueuedMessage[] = [];
  private readonly consumers: MemoryConsumer[] = [];
  private readonly bindings = new Map<string, TopicPattern>();
  private next = 0;
  /** Deliveries not yet settled, including those of consumers already removed (a stopping transport's). */
  private unsettled = 0;
  private pumpScheduled = false;

  constructor(
    readonly name: string,
    private readonly settle: SettleFn,
    private readonly changed: () => void,
  ) {}

  /** Adds bindings; like AMQP bindings they accumulate and are never removed implicitly. */
  bind(patterns: readonly TopicPattern[]): void {
    for (const p of patterns) this.bindings.set(p.source, p);
  }

  matches(routingKey: string): boolean {
    for (const p of this.bindings.values()) if (p.matches(routingKey)) return true;
    return false;
  }

  get depth(): number {
    return this.items.length;
  }

  get inFlight(): number {
    return this.unsettled;
  }

  get hasConsumers(): boolean {
    return this.consumers.length > 0;
  }

  enqueue(item: QueuedMessage): void {
    this.items.push(item);
    this.schedulePump();
  }

  addConsumer(deliver: DeliverFn, capacity: number): MemoryConsumer {
    const consumer: MemoryConsumer = { deliver, capacity: Math.max(1, capacity), inFlight: 0, running: new Set() };
    this.consumers.push(consumer);
    this.schedulePump();
    return consumer;
  }

  /** Detaches a consumer (no new deliveries) and waits for its in-flight deliveries to settle. */
  async removeConsumer(consumer: MemoryConsumer): Promise<void> {
    const index = this.consumers.indexOf(consumer);
    if (index >= 0) this.consumers.splice(index, 1);
    // Waiting messages stop counting as pending once nobody consumes them.
    this.changed();
    await Promise.all([...consumer.running]);
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.items.length > 0) {
      const consumer = this.nextConsumerWithCapacity();
      if (!consumer) return;
      this.dispatch(consumer, this.items.shift() as QueuedMessage);
    }
  }

  private nextConsumerWithCapacity(): MemoryConsumer | undefined {
    for (let i = 0; i < this.consumers.length; i++) {
      const consumer = this.consumers[(this.next + i) % this.consumers.length];
      if (consumer && consumer.inFlight < consumer.capacity) {
        this.next = (this.next + i + 1) % this.consumers.length;
        return consumer;
      }
    }
    return undefined;
  }

  private dispatch(consumer: MemoryConsumer, item: QueuedMessage): void {
    consumer.inFlight++;
    this.unsettled++;
    const run = this.deliver(consumer, item)
      .then((outcome) => this.settle(this, item, outcome))
      .finally(() => {
        consumer.inFlight--;
        this.unsettled--;
        consumer.running.delete(run);
        this.schedulePump();
        this.changed();
      });
    consumer.running.add(run);
  }

  private async deliver(consumer: MemoryConsumer, item: QueuedMessage): Promise<DeliveryOutcome> {
    const message = { ...item.message, attempt: item.attempt, ...(item.failures && { failures: item.failures }) };
    try {
      return await consumer.deliver(message);
    } catch (error) {
      return deliverFailedOutcome(error, message, this.name);
    }
  }
}
