import type { ConformanceTarget, DeadLetterRecord, OutboundMessage } from '@tidings/core';
import { deadLetterReasonOf, RabbitMqTransport, toOutboundMessage, type RabbitMqTransportOptions } from '@tidings/rabbitmq';
import { connect, type ChannelModel } from 'amqplib';
import { toPublication } from '../../libs/rabbitmq/src/wire/amqp-message.mapping.js';

export const RABBITMQ_URL = process.env['RABBITMQ_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';

/** Logs nothing: failures the tests provoke on purpose are asserted, not printed. */
export const silentLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** Stops `transports`, then deletes every queue they declared, `extraQueues` and the exchange: a test leaves nothing behind. */
export async function removeTopology(
  connection: ChannelModel,
  transports: readonly RabbitMqTransport[],
  exchange: string,
  extraQueues: Iterable<string> = [],
): Promise<void> {
  await Promise.all(transports.map((t) => t.stop()));
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  const queues = new Set([
    ...extraQueues,
    ...transports.flatMap((t) => t.declaredTopology().flatMap((d) => [d.queue, d.deadLetterQueue, ...d.retryQueues])),
  ]);
  for (const queue of queues) await channel.deleteQueue(queue);
  await channel.deleteExchange(exchange);
  await channel.close();
}

let counter = 0;
/** A prefix unique across processes and runs, so suites can run in parallel and twice in a row. */
export const uniquePrefix = (label: string): string => `t${process.pid}-${Date.now().toString(36)}-${++counter}-${label}.`;

/**
 * A conformance target on the real broker: its own exchange and log stream under a unique prefix, a raw
 * amqplib connection for foreign publishes and for reading dead-letter queues, and cleanup of everything
 * declared.
 */
export async function rabbitMqTarget(
  label: string,
  options: Partial<RabbitMqTransportOptions> & { withLog: boolean },
): Promise<ConformanceTarget> {
  const prefix = uniquePrefix(label);
  const exchange = `${prefix}events`;
  const logQueue = `${prefix}log`;
  const transports: RabbitMqTransport[] = [];
  const raw: ChannelModel = await connect(RABBITMQ_URL);
  raw.on('error', () => undefined);
  const publishChannel = await raw.createConfirmChannel();
  await publishChannel.assertExchange(exchange, 'topic', { durable: true });
  const letters = new Map<string, DeadLetterRecord[]>();
  const { withLog, ...overrides } = options;

  return {
    prefix,
    createTransport: ({ service }) => {
      const transport = new RabbitMqTransport({
        url: RABBITMQ_URL,
        exchange,
        connectionName: `conformance ${prefix}${service}`,
        logger: silentLogger,
        ...(withLog && { eventLog: { queue: logQueue } }),
        ...overrides,
      });
      transports.push(transport);
      return transport;
    },
    publishRaw: async (message: OutboundMessage) => {
      const { routingKey, content, options: publishOptions } = toPublication(exchange, message);
      publishChannel.publish(exchange, routingKey, content, publishOptions);
      await publishChannel.waitForConfirms();
    },
    deadLetters: async (subscription) => {
      if (!letters.has(subscription)) {
        const records: DeadLetterRecord[] = [];
        letters.set(subscription, records);
        const channel = await raw.createChannel();
        await channel.consume(
          `${subscription}.dlq`,
          (message) => {
            if (message)
              records.push({ message: toOutboundMessage(message), reason: deadLetterReasonOf(message.properties.headers ?? {}) });
          },
          { noAck: true },
        );
      }
      return [...(letters.get(subscription) ?? [])];
    },
    dispose: async () => {
      await removeTopology(raw, transports, exchange, withLog ? [logQueue] : []);
      await raw.close();
    },
  };
}
