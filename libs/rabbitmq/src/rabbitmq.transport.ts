import {
  encodeEnvelope,
  PublishFailedError,
  TransportStateError,
  type DeliverFn,
  type Envelope,
  type EventLog,
  type PublishFailure,
  type Subscription,
  type Transport,
  type TransportHealth,
} from '@tidings/core';
import type { ChannelModel } from 'amqplib';
import { ConnectionSupervisor, type ConnectionState } from './connection/connection.supervisor.js';
import { SubscriptionConsumer } from './consuming/subscription.consumer.js';
import { NotAcceptedError } from './publishing/confirm.publisher.js';
import { StreamEventLog } from './event-log/stream.event-log.js';
import type { RabbitMqTransportOptions } from './options/rabbitmq-transport.options.js';
import { resolveOptions, type ResolvedRabbitMqOptions } from './options/resolved-options.js';
import { ConfirmPublisher } from './publishing/confirm.publisher.js';
import { TopologyDeclarer, type SubscriptionTopology } from './topology/topology.declarer.js';
import { toPublication } from './wire/amqp-message.mapping.js';

/** Message bodies are written into Node's shared buffer pool rather than a buffer each (see `encodeEnvelope`). */
const utf8Buffer = (text: string): Buffer => Buffer.from(text, 'utf8');

/** Connection states and publishing load, for health checks. */
export interface RabbitMqTransportStatus {
  readonly state: 'stopped' | 'starting' | 'started' | 'stopping';
  readonly publisher: { readonly state: ConnectionState; readonly blockedReason?: string };
  readonly consumer: { readonly state: ConnectionState; readonly blockedReason?: string };
  /** Publishes awaiting confirmation. */
  readonly publishesInFlight: number;
}

/**
 * The RabbitMQ {@link Transport}: a topic exchange, a quorum (or classic) queue per subscription with retry
 * tier queues and a dead-letter queue, confirmed publishing, and recovery. Publishing and consuming use
 * separate connections, so a publisher blocked by a resource alarm never stalls consumers.
 *
 * @example
 * ```ts
 * const transport = new RabbitMqTransport({ url: 'amqp://guest:guest@127.0.0.1:5672', connectionName: 'questions' });
 * EventBusModule.forRoot({ service: 'questions', transport });
 * ```
 */
export class RabbitMqTransport implements Transport {
  readonly name = 'rabbitmq';
  readonly eventLog: EventLog | undefined;
  private readonly options: ResolvedRabbitMqOptions;
  private readonly topology: TopologyDeclarer;
  private readonly publisherConnection: ConnectionSupervisor;
  private readonly consumerConnection: ConnectionSupervisor;
  private readonly publisher: ConfirmPublisher;
  private readonly consumers: SubscriptionConsumer[] = [];
  private readonly declared = new Map<string, SubscriptionTopology>();
  private state: RabbitMqTransportStatus['state'] = 'stopped';
  private stopping: Promise<void> | undefined;

  constructor(options: RabbitMqTransportOptions) {
    this.options = resolveOptions(options);
    this.topology = new TopologyDeclarer(this.options);
    this.publisherConnection = new ConnectionSupervisor('publisher', this.options, (connection) =>
      this.topology.declarePublishing(connection),
    );
    this.consumerConnection = new ConnectionSupervisor('consumer', this.options, (connection) => this.resubscribeAll(connection));
    this.publisher = new ConfirmPublisher(this.publisherConnection, this.options, (channel) => this.topology.declareExchange(channel));
    this.eventLog = this.options.eventLog ? new StreamEventLog(this.consumerConnection, this.publisher, this.options) : undefined;
  }

  async start(): Promise<void> {
    if (this.state === 'started' || this.state === 'starting') return;
    if (this.state === 'stopping') throw new TransportStateError(this.name, 'start', this.state);
    this.state = 'starting';
    try {
      await this.publisherConnection.start();
      await this.consumerConnection.start();
      this.state = 'started';
      // A subscribe() that arrived while the connection's setup was running may have missed it.
      const connection = this.consumerConnection.current;
      if (connection) await this.resubscribeAll(connection);
    } catch (error) {
      await Promise.all([this.publisherConnection.stop(), this.consumerConnection.stop()]);
      this.state = 'stopped';
      throw error;
    }
  }

  /** Cancels consumers, lets in-flight handlers finish, settles confirms, closes channels, then connections. */
  stop(): Promise<void> {
    if (this.state === 'stopped') return Promise.resolve();
    this.stopping ??= this.drainAndClose().finally(() => {
      this.stopping = undefined;
      this.state = 'stopped';
    });
    return this.stopping;
  }

  async publish(envelopes: readonly Envelope[]): Promise<void> {
    if (this.state !== 'started' && this.state !== 'stopping') throw new TransportStateError(this.name, 'publish', this.state);
    const publications = envelopes.map((envelope) => toPublication(this.options.exchange, encodeEnvelope(envelope, utf8Buffer)));
    const outcomes = await this.publisher.publishEach(publications);
    const failures: PublishFailure[] = [];
    outcomes.forEach((error, i) => {
      if (error !== undefined) {
        const envelope = envelopes[i] as Envelope;
        const reason = error instanceof NotAcceptedError ? error.reason : 'unconfirmed';
        failures.push({ id: envelope.id, type: envelope.type, reason, detail: error.message });
      }
    });
    if (failures.length > 0) throw new PublishFailedError(failures, envelopes.length - failures.length);
  }

  async subscribe(subscription: Subscription, deliver: DeliverFn): Promise<void> {
    if (this.state === 'stopping') throw new TransportStateError(this.name, 'subscribe', this.state);
    const consumer = new SubscriptionConsumer(subscription, deliver, this.publisher, this.options.logger, (c) => this.redeclare(c));
    this.consumers.push(consumer);
    const connection = this.consumerConnection.current;
    if (this.state === 'started' && connection) await this.bind(consumer, connection);
  }

  /** Connection states and publishing load. */
  status(): RabbitMqTransportStatus {
    return {
      state: this.state,
      publisher: this.publisherConnection.status,
      consumer: this.consumerConnection.status,
      publishesInFlight: this.publisher.inFlight,
    };
  }

  /** Healthy while started with both connections up and publishes not blocked by a broker alarm. */
  health(): TransportHealth {
    const { state, publisher, consumer } = this.status();
    const describe = (role: string, c: RabbitMqTransportStatus['publisher']): string =>
      `${role} ${c.state}${c.blockedReason ? ` (${c.blockedReason})` : ''}`;
    const healthy = state === 'started' && publisher.state === 'connected' && consumer.state === 'connected';
    return {
      healthy,
      detail: state === 'started' ? `${describe('publisher', publisher)}, ${describe('consumer', consumer)}` : `transport ${state}`,
    };
  }

  /** What has been declared per subscription queue (names as they appear in the management UI). */
  declaredTopology(): readonly SubscriptionTopology[] {
    return [...this.declared.values()];
  }

  /** Runs once per consumer connection: declares and consumes every subscription (one consumer each). */
  private async resubscribeAll(connection: ChannelModel): Promise<void> {
    for (let i = 0; i < this.consumers.length; i++) await this.bind(this.consumers[i] as SubscriptionConsumer, connection);
  }

  private async bind(consumer: SubscriptionConsumer, connection: ChannelModel, force = false): Promise<void> {
    if (!force && consumer.isAttachedTo(connection)) return;
    this.declared.set(consumer.subscription.name, await this.topology.declareSubscription(connection, consumer.subscription));
    await consumer.attach(connection, force);
  }

  private redeclare(consumer: SubscriptionConsumer): void {
    const connection = this.consumerConnection.current;
    if (!connection || this.state !== 'started') return;
    this.bind(consumer, connection, true).catch((error: unknown) =>
      this.options.logger.error(
        `Could not resubscribe ${consumer.subscription.name}: ${error instanceof Error ? error.message : String(error)}`,
      ),
    );
  }

  private async drainAndClose(): Promise<void> {
    this.state = 'stopping';
    await Promise.all(this.consumers.map((c) => c.cancel()));
    await Promise.all(this.consumers.map((c) => c.drain()));
    await this.publisher.flush();
    await this.publisher.close();
    await Promise.all(this.consumers.map((c) => c.close()));
    await Promise.all([this.publisherConnection.stop(), this.consumerConnection.stop()]);
  }
}
