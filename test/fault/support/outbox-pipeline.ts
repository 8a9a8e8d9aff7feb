import { OutboxRelay, RetryPolicy, type Envelope } from '@tidings/core';
import { RabbitMqTransport, type RabbitMqTransportOptions } from '@tidings/rabbitmq';
import { TypeOrmInboxStore, TypeOrmOutboxStore } from '@tidings/typeorm';
import { connect } from 'amqplib';
import type { DataSource } from 'typeorm';
import { removeTopology, silentLogger, uniquePrefix } from '../../rabbitmq/rabbitmq-conformance.target.js';
import { RecordingLogger } from '../../rabbitmq/rabbitmq.fixture.js';
import { testDatabase, type TestDatabase } from '../../typeorm/outbox-database.js';
import { FaultLedger } from './fault-ledger.js';
import { LoadProducer } from './load-producer.js';

/** Options of {@link OutboxPipeline.start}. */
export interface OutboxPipelineOptions {
  /** Short name of the fault: the prefix of the schema, exchange and queue. */
  readonly label: string;
  readonly rabbitmqUrl: string;
  readonly postgresUrl?: string;
  /** The consumer's retry schedule: long enough to outlast the fault where handlers fail during it. */
  readonly retry?: RetryPolicy;
  /** Options of both transports (publish timeout, window...). */
  readonly transport?: Partial<RabbitMqTransportOptions>;
  /** Start the relay in this process. @default true (fault tests that kill relays run them as child processes) */
  readonly relay?: boolean;
  /** Start the consumer in this process. @default true (fault tests that kill consumers run them as child processes) */
  readonly consumer?: boolean;
}

/**
 * A whole pipeline under test, in this process: producers commit events to the outbox (and the ledger) on
 * PostgreSQL, the `OutboxRelay` publishes them to RabbitMQ, and a transactional consumer with the inbox writes one
 * effect per event. Each piece has its own connections, as separate services would.
 */
export class OutboxPipeline {
  readonly logger = new RecordingLogger();
  private readonly transports: RabbitMqTransport[] = [];
  relay: OutboxRelay | undefined;

  private constructor(
    readonly options: OutboxPipelineOptions,
    readonly db: TestDatabase,
    readonly ledger: FaultLedger,
    readonly store: TypeOrmOutboxStore,
    readonly inbox: TypeOrmInboxStore,
    readonly exchange: string,
    readonly queue: string,
    readonly type: string,
    private readonly producerSource: DataSource,
  ) {}

  static async start(options: OutboxPipelineOptions): Promise<OutboxPipeline> {
    const prefix = uniquePrefix(options.label);
    const db = await testDatabase(`fault_${options.label.replace(/[^a-z0-9]/g, '_')}`, options.postgresUrl);
    const consumerSource = await db.connect(8);
    const producerSource = await db.connect(4);
    const queue = `${prefix}effects`;
    const ledger = new FaultLedger(consumerSource, db.schema, queue);
    await ledger.create();
    const pipeline = new OutboxPipeline(
      options,
      db,
      ledger,
      new TypeOrmOutboxStore(producerSource, { schema: db.schema }),
      new TypeOrmInboxStore(consumerSource, { schema: db.schema }),
      `${prefix}events`,
      queue,
      `${prefix.replace(/[^a-z0-9-]/g, '')}.item.added`,
      producerSource,
    );
    if (options.consumer !== false) {
      await ledger.effects.subscribe(await pipeline.transport('consumer'), queue, pipeline.inbox, {
        concurrency: 20,
        prefetch: 100,
        ...(options.retry && { retry: options.retry }),
      });
    }
    if (options.relay !== false) await pipeline.startRelay();
    return pipeline;
  }

  /** A started transport on the pipeline's broker and exchange, stopped by `dispose`. */
  async transport(role: string, overrides: Partial<RabbitMqTransportOptions> = {}): Promise<RabbitMqTransport> {
    const transport = new RabbitMqTransport({
      url: this.options.rabbitmqUrl,
      exchange: this.exchange,
      connectionName: `${this.options.label} ${role}`,
      logger: this.logger,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
      ...this.options.transport,
      ...overrides,
    });
    this.transports.push(transport);
    await transport.start();
    return transport;
  }

  /** An `OutboxRelay` in this process, on its own DataSource (as a relay service would be). */
  private async startRelay(): Promise<OutboxRelay> {
    const source = await this.db.connect(4);
    this.relay = new OutboxRelay(new TypeOrmOutboxStore(source, { schema: this.db.schema }), await this.transport('relay'), {
      logger: silentLogger,
      batchSize: 100,
      pollIntervalMs: 500,
      backoff: { initialMs: 100, maxMs: 1000 },
    });
    await this.relay.start();
    return this.relay;
  }

  /** Commits `envelopes` to the outbox and the ledger in one producer transaction. */
  commit = (envelopes: readonly Envelope[]): Promise<void> => this.ledger.commit(this.producerSource, this.store, envelopes);

  /** Starts a producer committing `perTransaction` events every `intervalMs` until `total`. */
  produce(total: number, perTransaction = 20, intervalMs = 5): LoadProducer {
    return new LoadProducer(this.commit, { type: this.type, perTransaction, intervalMs, total });
  }

  /** What a child process of this pipeline (test/typeorm/processes) needs to find its database and broker. */
  get childEnv(): Record<string, string> {
    return { POSTGRES_URL: this.db.url, SCHEMA: this.db.schema, RABBITMQ_URL: this.options.rabbitmqUrl, EXCHANGE: this.exchange };
  }

  /**
   * Stops the relay and transports, deletes the topology (when the broker is reachable; `extraQueues` are queues of
   * killed children, which cannot say what they declared) and drops the schema.
   */
  async dispose(extraQueues: readonly string[] = []): Promise<void> {
    await this.relay?.stop();
    const raw = await connect(this.options.rabbitmqUrl).catch(() => undefined);
    if (raw) {
      await removeTopology(raw, this.transports, this.exchange, extraQueues);
      await raw.close();
    } else {
      await Promise.all(this.transports.map((t) => t.stop()));
    }
    await this.db.dispose();
  }
}
