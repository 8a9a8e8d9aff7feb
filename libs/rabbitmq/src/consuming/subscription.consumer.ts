import { deliverFailedOutcome, tierAtLeast, type DeliverFn, type DeliveryOutcome, type Subscription } from '@tidings/core';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { TransportLogger } from '../options/rabbitmq-transport.options.js';
import type { ConfirmPublisher } from '../publishing/confirm.publisher.js';
import { deadLetterQueueName, retryQueueName } from '../topology/topology.names.js';
import { toDeadLetterPublication, toInboundMessage, toRetryPublication, type AmqpPublication } from '../wire/amqp-message.mapping.js';
import { AckCoalescer } from './ack-coalescer.js';

/** Called when the broker cancels the consumer (its queue was deleted); the transport redeclares and resubscribes. */
export type CancelledHook = (consumer: SubscriptionConsumer) => void;

/** Pause before giving a message back when its retry or dead-letter copy could not be stored. */
const REQUEUE_DELAY_MS = 1000;

/**
 * Consumes one subscription's queue on its own channel of the consumer connection: the channel's prefetch
 * bounds what the broker pushes, `concurrency` bounds what runs. Each outcome is realised in the order that
 * never loses a message: the retry or dead-letter copy is published and confirmed first (through the
 * publisher connection, so a blocked publisher never stalls acks), then the original is acked. A crash in
 * between means a duplicate, never a loss.
 */
export class SubscriptionConsumer {
  private channel: Channel | undefined;
  private acks: AckCoalescer | undefined;
  private consumerTag: string | undefined;
  private running = 0;
  private readonly waiting: ConsumeMessage[] = [];
  /** Resolved each time the last delivery in progress finishes: {@link drain} waits on them. */
  private idleWaiters: (() => void)[] = [];
  private accepting = false;
  private attachedTo: ChannelModel | undefined;

  constructor(
    readonly subscription: Subscription,
    private readonly deliver: DeliverFn,
    private readonly publisher: ConfirmPublisher,
    private readonly logger: TransportLogger,
    private readonly onCancelled: CancelledHook,
  ) {}

  /**
   * Opens a channel on `connection` and starts consuming, once per connection (so a resubscription racing a
   * reconnection never doubles the consumer); `force` replaces a consumer the broker cancelled.
   */
  async attach(connection: ChannelModel, force = false): Promise<void> {
    if (this.attachedTo === connection && !force) return;
    this.attachedTo = connection;
    const previous = this.channel;
    this.acks?.flush(true);
    this.channel = undefined;
    if (previous && force) await previous.close().catch(() => undefined);
    const channel = await connection.createChannel();
    channel.on('error', (error: Error) => this.logger.warn(`RabbitMQ consumer channel of ${this.subscription.name}: ${error.message}`));
    await channel.prefetch(this.subscription.prefetch);
    this.channel = channel;
    this.acks = new AckCoalescer(channel, (error) =>
      this.logger.warn(
        `Could not settle a message of ${this.subscription.name}: ${error instanceof Error ? error.message : String(error)}`,
      ),
    );
    this.waiting.length = 0;
    this.accepting = true;
    const { consumerTag } = await channel.consume(this.subscription.name, (message) => this.onMessage(channel, message), { noAck: false });
    this.consumerTag = consumerTag;
  }

  /** Whether this consumer already consumes on `connection`. */
  isAttachedTo(connection: ChannelModel): boolean {
    return this.attachedTo === connection;
  }

  /** Stops new deliveries; prefetched messages not yet started go back to the queue when the channel closes. */
  async cancel(): Promise<void> {
    this.accepting = false;
    const { channel, consumerTag } = this;
    this.waiting.length = 0;
    if (channel && consumerTag) await channel.cancel(consumerTag).catch(() => undefined);
  }

  /** Waits for the deliveries in progress, including their retry/dead-letter publishes and acks. */
  async drain(): Promise<void> {
    while (this.running > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.acks?.flush(true);
  }

  async close(): Promise<void> {
    const channel = this.channel;
    this.acks?.flush(true);
    this.channel = undefined;
    this.acks = undefined;
    this.attachedTo = undefined;
    if (channel) await channel.close().catch(() => undefined);
  }

  private onMessage(channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled us: the queue was deleted or (quorum) lost its leader. Never a TypeError.
      if (this.accepting && channel === this.channel) {
        this.accepting = false;
        this.logger.warn(`RabbitMQ cancelled the consumer of ${this.subscription.name} (queue deleted?); declaring it again`);
        this.onCancelled(this);
      }
      return;
    }
    if (channel !== this.channel || !this.accepting) return; // a stale channel's message is redelivered by the broker
    this.acks?.received(message);
    this.waiting.push(message);
    this.startNext(channel);
  }

  private startNext(channel: Channel): void {
    while (this.running < this.subscription.concurrency && this.waiting.length > 0 && this.accepting) {
      const message = this.waiting.shift() as ConsumeMessage;
      this.running++;
      void this.process(channel, message);
    }
  }

  /**
   * Handles one message to its end (ack, or retry/dead-letter copy then ack, or requeue), then starts the next; never
   * rejects. One async function per message, not a promise chain: every promise costs more while an AsyncLocalStorage
   * is enabled, as the inbox's transactions keep one.
   */
  private async process(channel: Channel, message: ConsumeMessage): Promise<void> {
    try {
      const inbound = toInboundMessage(message);
      let outcome: DeliveryOutcome;
      try {
        outcome = await this.deliver(inbound);
      } catch (error) {
        // DeliverFn must not reject; if it does, keep the message as a dead letter: no crash, no loop, no loss.
        this.logger.error(
          `Delivery on ${this.subscription.name} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`,
        );
        outcome = deliverFailedOutcome(error, inbound, this.subscription.name);
      }
      const copy = this.copyFor(message, inbound.attempt, outcome);
      if (copy && !(await this.storeCopy(copy, outcome))) {
        await new Promise((resolve) => setTimeout(resolve, REQUEUE_DELAY_MS));
        this.settle(channel, (acks) => acks.requeue(message));
      } else {
        this.settle(channel, (acks) => acks.ack(message));
      }
    } catch (error) {
      // Last resort (mapping a malformed delivery, say): give the message back; never an unhandled rejection.
      this.logger.error(
        `Could not handle a message of ${this.subscription.name}: ${error instanceof Error ? error.message : String(error)}`,
      );
      this.settle(channel, (acks) => acks.requeue(message));
    } finally {
      this.running--;
      if (channel === this.channel) this.startNext(channel);
      if (this.running === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** Publishes a retry or dead-letter copy; `false` (logged) if the broker did not take it, so the original is requeued. */
  private async storeCopy(copy: AmqpPublication, outcome: DeliveryOutcome): Promise<boolean> {
    try {
      await this.publisher.publish(copy);
      return true;
    } catch (error) {
      this.logger.error(
        `Could not store the ${outcome.kind} copy of a message from ${this.subscription.name} (${error instanceof Error ? error.message : String(error)}); giving it back to the queue`,
      );
      return false;
    }
  }

  private copyFor(message: ConsumeMessage, attempt: number, outcome: DeliveryOutcome): AmqpPublication | undefined {
    const queue = this.subscription.name;
    if (outcome.kind === 'retry')
      return toRetryPublication(
        message,
        attempt,
        retryQueueName(queue, tierAtLeast(this.subscription.retryTiersMs, outcome.delayMs)),
        outcome,
      );
    if (outcome.kind === 'deadLetter')
      return toDeadLetterPublication(message, deadLetterQueueName(queue), outcome.reason, this.subscription.service);
    return undefined;
  }

  /** Acks or nacks unless the channel died meanwhile: then the broker redelivers, which the inbox absorbs. */
  private settle(channel: Channel, action: (acks: AckCoalescer) => void): void {
    if (channel !== this.channel || !this.acks) return;
    action(this.acks);
  }
}
