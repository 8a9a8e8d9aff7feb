import {
  createEnvelope,
  ErrorClassifier,
  HandlerPipeline,
  RetryPolicy,
  TopicPattern,
  type Envelope,
  type EventContext,
  type RetryOptions,
} from '@tidings/core';
import { RabbitMqTransport, type RabbitMqTransportOptions } from '@tidings/rabbitmq';
import { connect, type ChannelModel } from 'amqplib';
import { RABBITMQ_URL, removeTopology, silentLogger, uniquePrefix } from './rabbitmq-conformance.target.js';

/** A recording logger, for asserting what operators would read. */
export class RecordingLogger {
  readonly lines: string[] = [];
  log = (m: string): void => void this.lines.push(`log ${m}`);
  warn = (m: string): void => void this.lines.push(`warn ${m}`);
  error = (m: string): void => void this.lines.push(`error ${m}`);
}

export interface SubscribeOptions {
  readonly service?: string;
  readonly retry?: RetryOptions;
  readonly prefetch?: number;
  readonly concurrency?: number;
}

/**
 * One test's corner of the shared broker: its own exchange and queue names under a unique prefix, the
 * transports it made, a raw amqplib connection for looking behind the transport, and cleanup of all of it.
 */
export class RabbitMqFixture {
  readonly prefix = uniquePrefix('rmq');
  readonly exchange = `${this.prefix}events`;
  private readonly transports: RabbitMqTransport[] = [];
  private rawConnection: ChannelModel | undefined;
  private readonly extraQueues = new Set<string>();

  transport(options: Partial<RabbitMqTransportOptions> = {}): RabbitMqTransport {
    const transport = new RabbitMqTransport({
      url: RABBITMQ_URL,
      exchange: this.exchange,
      connectionName: `${this.prefix}test`,
      logger: silentLogger,
      ...options,
    });
    this.transports.push(transport);
    return transport;
  }

  type(name: string): string {
    return `${this.prefix.replace(/[^a-z0-9-]/g, '')}.${name}`;
  }

  envelope(type: string, data: unknown = {}): Envelope {
    return createEnvelope({ type, version: 1, source: 'rabbitmq-e2e', data });
  }

  /** Subscribes a handler bound by topic pattern; the queue is `<prefix><name>`. Returns the queue name. */
  async subscribe(
    transport: RabbitMqTransport,
    name: string,
    pattern: string,
    handle: (data: unknown, context: EventContext) => unknown,
    options: SubscribeOptions = {},
  ): Promise<string> {
    const queue = `${this.prefix}${name}`;
    const retry = new RetryPolicy({ tiersMs: [20, 50], initialDelayMs: 20, jitter: 0, ...options.retry });
    const pipeline = new HandlerPipeline({
      subscription: queue,
      handlers: [{ name, target: { patterns: [TopicPattern.parse(pattern)] }, handle, retry, classifier: new ErrorClassifier() }],
    });
    await transport.subscribe(
      {
        name: queue,
        ...(options.service !== undefined && { service: options.service }),
        patterns: [TopicPattern.parse(pattern)],
        prefetch: options.prefetch ?? 10,
        concurrency: options.concurrency ?? 1,
        retryTiersMs: retry.options.tiersMs,
      },
      pipeline.deliver,
    );
    return queue;
  }

  async raw(): Promise<ChannelModel> {
    if (!this.rawConnection) {
      this.rawConnection = await connect(RABBITMQ_URL);
      this.rawConnection.on('error', () => undefined);
    }
    return this.rawConnection;
  }

  /** A queue the test declared itself, to delete at the end. */
  track(queue: string): void {
    this.extraQueues.add(queue);
  }

  async dispose(): Promise<void> {
    await removeTopology(await this.raw(), this.transports, this.exchange, this.extraQueues);
    await this.rawConnection?.close();
  }
}
