import { connect, type Channel, type ChannelModel, type ConfirmChannel, type Options } from 'amqplib';

export const RABBITMQ_URL = process.env['RABBITMQ_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';

/** The transport's logger in the bench: connection chatter is not a result. */
export const silentLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

export type QueueType = 'quorum' | 'classic';

/** One AMQP publish, as a hand-written publisher makes it. */
export interface RawPublication {
  readonly routingKey: string;
  readonly content: Buffer;
  readonly options: Options.Publish;
}

/**
 * The bench's hold on the shared broker: one durable topic exchange and uniquely named queues, every one of
 * which is deleted again (each scenario deletes its own; `cleanup` deletes whatever a failure left).
 */
export class BenchBroker {
  readonly prefix = `bench-${process.pid}-${Date.now().toString(36)}`;
  readonly exchange = `${this.prefix}.events`;
  private readonly queues = new Set<string>();
  private readonly exchanges = new Set<string>();
  private readonly connections = new Set<ChannelModel>();
  private adminChannel: Channel | undefined;
  private counter = 0;

  private constructor(private readonly admin: ChannelModel) {}

  static async open(): Promise<BenchBroker> {
    const admin = await connect(RABBITMQ_URL, { clientProperties: { connection_name: 'tidings bench admin' } });
    admin.on('error', () => undefined);
    const broker = new BenchBroker(admin);
    await (await broker.channel()).assertExchange(broker.exchange, 'topic', { durable: true });
    return broker;
  }

  get serverProperties(): Readonly<Record<string, unknown>> {
    return this.admin.connection.serverProperties as unknown as Record<string, unknown>;
  }

  /** A fresh, unique queue name (not declared). */
  name(label: string): string {
    return `${this.prefix}.${label}.${++this.counter}`;
  }

  /** A new connection of its own, closed by `cleanup` unless closed before. */
  async connect(name: string): Promise<ChannelModel> {
    const connection = await connect(RABBITMQ_URL, { clientProperties: { connection_name: `tidings bench ${name}` } });
    connection.on('error', () => undefined);
    this.connections.add(connection);
    connection.once('close', () => this.connections.delete(connection));
    return connection;
  }

  /** Declares a plain durable queue of that type, bound to the exchange by `routingKey`. */
  async declareQueue(name: string, queueType: QueueType, routingKey: string): Promise<void> {
    this.track(name);
    const channel = await this.channel();
    await channel.assertQueue(name, { durable: true, arguments: { 'x-queue-type': queueType } });
    await channel.bindQueue(name, this.exchange, routingKey);
  }

  /** Remembers a queue someone else declared (the transport's dead-letter and retry queues), to delete it. */
  track(...names: string[]): void {
    for (const name of names) this.queues.add(name);
  }

  /** Remembers an exchange of a scenario's own (besides {@link exchange}), to delete it. */
  trackExchange(name: string): void {
    this.exchanges.add(name);
  }

  async deleteExchange(name: string): Promise<void> {
    await (await this.channel()).deleteExchange(name);
    this.exchanges.delete(name);
  }

  async messageCount(queue: string): Promise<number> {
    return (await (await this.channel()).checkQueue(queue)).messageCount;
  }

  /** Waits until the queue holds no ready message (a quorum queue applies acks shortly after they arrive). */
  async awaitEmpty(queue: string, timeoutMs = 10_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const left = await this.messageCount(queue);
      if (left === 0) return;
      if (performance.now() > deadline) throw new Error(`${queue} still holds ${left} messages after consuming them all`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async deleteQueues(...names: string[]): Promise<void> {
    for (const name of names) {
      await (await this.channel()).deleteQueue(name);
      this.queues.delete(name);
    }
  }

  /** Deletes a queue and the known queues named after it (`<queue>.dlq`, `<queue>.retry.1s`). */
  async deleteWithDependents(queue: string): Promise<void> {
    await this.deleteQueues(queue, ...[...this.queues].filter((name) => name.startsWith(`${queue}.`)));
  }

  /** Deletes every queue and exchange still known, the exchange, and closes every connection. Safe to call twice. */
  async cleanup(): Promise<void> {
    await Promise.all([...this.connections].map((c) => c.close().catch(() => undefined)));
    await this.deleteQueues(...this.queues);
    for (const name of this.exchanges) await this.deleteExchange(name);
    await (await this.channel()).deleteExchange(this.exchange);
    await this.admin.close().catch(() => undefined);
  }

  /** The admin channel, opened again if a refused operation closed it. */
  private async channel(): Promise<Channel> {
    if (!this.adminChannel) {
      const channel = await this.admin.createChannel();
      channel.on('error', () => undefined);
      channel.once('close', () => {
        if (this.adminChannel === channel) this.adminChannel = undefined;
      });
      this.adminChannel = channel;
    }
    return this.adminChannel;
  }
}

/**
 * Hand-written confirmed publishing, pipelined: at most `window` messages await their confirm, the next one
 * goes out as each confirm arrives (and waits for `drain` when the socket buffer is full). Resolves when all
 * `count` are confirmed; rejects on the first nack.
 */
export function publishPipelined(
  channel: ConfirmChannel,
  exchange: string,
  count: number,
  message: (index: number) => RawPublication,
  window = 1000,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let next = 0;
    let inFlight = 0;
    let confirmed = 0;
    let blocked = false;
    let failed = false;
    const pump = (): void => {
      while (!blocked && !failed && inFlight < window && next < count) {
        const { routingKey, content, options } = message(next++);
        inFlight++;
        const writable = channel.publish(exchange, routingKey, content, options, (error: unknown) => {
          inFlight--;
          if (error) {
            failed = true;
            return reject(error instanceof Error ? error : new Error('nacked'));
          }
          if (++confirmed === count) resolve();
          else pump();
        });
        if (!writable) {
          blocked = true;
          channel.once('drain', () => {
            blocked = false;
            pump();
          });
        }
      }
    };
    if (count === 0) resolve();
    else pump();
  });
}

/** Rejects when `work` takes longer than `ms`, naming what hung. */
export async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
