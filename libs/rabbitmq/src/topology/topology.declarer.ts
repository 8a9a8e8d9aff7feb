import type { Subscription } from '@tidings/core';
import type { Channel, ChannelModel, Options } from 'amqplib';
import { TopologyMismatchError } from '../errors/topology-mismatch.error.js';
import type { ResolvedRabbitMqOptions } from '../options/resolved-options.js';
import { deadLetterQueueName, retryQueueName } from './topology.names.js';

/** What was declared for one subscription, for logs, docs and tests. */
export interface SubscriptionTopology {
  readonly queue: string;
  readonly bindings: readonly string[];
  readonly retryQueues: readonly string[];
  readonly deadLetterQueue: string;
}

const PRECONDITION_FAILED = 406;

/** The argument RabbitMQ names in "inequivalent arg 'x-queue-type' for queue ...". Used only to word our error. */
const argumentOf = (message: string): string | undefined => /inequivalent arg '([^']+)'/.exec(message)?.[1];

/**
 * Declares Tidings' topology idempotently: the topic exchange, and per subscription a durable queue bound by
 * its patterns, one TTL queue per retry tier that dead-letters back to that queue only (through the default
 * exchange, so other subscribers never see a retry), and a dead-letter queue. Each declaration uses a
 * short-lived channel, because a refused declaration (406) closes its channel. Nothing is ever deleted.
 */
export class TopologyDeclarer {
  constructor(private readonly options: ResolvedRabbitMqOptions) {}

  async declareExchange(channel: Pick<Channel, 'assertExchange'>): Promise<void> {
    await this.guard('exchange', this.options.exchange, () => channel.assertExchange(this.options.exchange, 'topic', { durable: true }));
  }

  async declareSubscription(connection: ChannelModel, subscription: Subscription): Promise<SubscriptionTopology> {
    return this.withChannel(connection, async (channel) => {
      await this.declareExchange(channel);
      const queue = subscription.name;
      const dlq = deadLetterQueueName(queue);
      await this.queue(channel, dlq, {});
      await this.queue(channel, queue, this.options.queueType === 'quorum' ? this.poisonGuard(dlq) : {});
      const bindings = [...new Set(subscription.patterns.map((p) => p.source))];
      for (const pattern of bindings) await channel.bindQueue(queue, this.options.exchange, pattern);
      const retryQueues: string[] = [];
      for (const delay of subscription.retryTiersMs) {
        const name = retryQueueName(queue, delay);
        await this.queue(channel, name, {
          'x-message-ttl': delay,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': queue,
          ...this.safeDeadLettering(),
        });
        retryQueues.push(name);
      }
      return { queue, bindings, retryQueues, deadLetterQueue: dlq };
    });
  }

  /** What the publisher needs: the exchange, and the event log stream bound to it with `#` when it is on. */
  async declarePublishing(connection: ChannelModel): Promise<void> {
    await this.withChannel(connection, async (channel) => {
      await this.declareExchange(channel);
      const log = this.options.eventLog;
      if (!log) return;
      const args: Record<string, unknown> = { 'x-queue-type': 'stream' };
      if (log.maxAge !== undefined) args['x-max-age'] = log.maxAge;
      if (log.maxLengthBytes !== undefined) args['x-max-length-bytes'] = log.maxLengthBytes;
      await this.guard('queue', log.queue, () => channel.assertQueue(log.queue, { durable: true, arguments: args }));
      await channel.bindQueue(log.queue, this.options.exchange, '#');
    });
  }

  /**
   * Quorum queues count deliveries, crash loops included; past the limit the broker dead-letters the message
   * to the DLQ by itself, so a message that kills its consumer cannot loop forever.
   */
  private poisonGuard(dlq: string): Record<string, unknown> {
    return {
      'x-delivery-limit': this.options.deliveryLimit,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': dlq,
      ...this.safeDeadLettering(),
    };
  }

  /**
   * Quorum queues dead-letter at most once by default: a message moved while its target is unavailable is dropped.
   * At-least-once dead-lettering (which requires reject-publish overflow) keeps it until the target confirms.
   */
  private safeDeadLettering(): Record<string, unknown> {
    return this.options.queueType === 'quorum' ? { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' } : {};
  }

  private async queue(channel: Channel, name: string, args: Record<string, unknown>): Promise<void> {
    // Quorum leaders spread over the cluster's nodes instead of piling up on the node this process is connected to.
    const placement = this.options.queueType === 'quorum' ? { 'x-queue-leader-locator': 'balanced' } : {};
    const options: Options.AssertQueue = { durable: true, arguments: { 'x-queue-type': this.options.queueType, ...placement, ...args } };
    await this.guard('queue', name, () => channel.assertQueue(name, options));
  }

  private async guard(kind: 'queue' | 'exchange', name: string, declare: () => Promise<unknown>): Promise<void> {
    try {
      await declare();
    } catch (error) {
      const { code, message } = error as { code?: number; message?: string };
      if (code === PRECONDITION_FAILED)
        throw new TopologyMismatchError(kind, name, argumentOf(message ?? ''), message ?? '406 PRECONDITION_FAILED');
      throw error;
    }
  }

  private async withChannel<T>(connection: ChannelModel, work: (channel: Channel) => Promise<T>): Promise<T> {
    const channel = await connection.createChannel();
    let closed = false;
    channel.on('error', () => undefined); // the failure is rethrown from the operation that caused it
    channel.once('close', () => (closed = true));
    try {
      return await work(channel);
    } finally {
      if (!closed) await channel.close().catch(() => undefined);
    }
  }
}
