import type { BenchBroker } from '../rabbitmq/broker.js';
import { ACK_GRACE_MS, pause } from '../rabbitmq/consume.scenario.js';

const PREFETCH = 1000;

/** A consumer that empties a queue while something else fills it, counting messages and distinct ids. */
export interface CountingConsumer {
  /** Resolves once `expected` messages arrived. */
  readonly reached: Promise<void>;
  /** Stops consuming and says what arrived. */
  stop(): Promise<{ readonly consumed: number; readonly distinct: number }>;
}

/**
 * Raw amqplib, prefetch {@link PREFETCH}, an ack per message: it keeps the queue short so the broker holds a few
 * messages rather than the whole backlog, and its counts prove every row arrived once (`distinct` by message id).
 */
export async function countingConsumer(broker: BenchBroker, queue: string, expected: number): Promise<CountingConsumer> {
  const connection = await broker.connect('counting consumer');
  const channel = await connection.createChannel();
  await channel.prefetch(PREFETCH);
  const ids = new Set<string>();
  let consumed = 0;
  let reach!: () => void;
  let fail!: (error: unknown) => void;
  const reached = new Promise<void>((resolve, reject) => ((reach = resolve), (fail = reject)));
  reached.catch(() => undefined); // a cancel before anyone awaits must not end the process; awaiting it still throws
  await channel.consume(
    queue,
    (message) => {
      if (!message) return fail(new Error(`consumer of ${queue} cancelled`));
      ids.add(String(message.properties.messageId));
      channel.ack(message);
      if (++consumed === expected) reach();
    },
    { noAck: false },
  );
  return {
    reached,
    async stop() {
      await pause(ACK_GRACE_MS);
      await channel.close();
      await connection.close().catch(() => undefined);
      return { consumed, distinct: ids.size };
    },
  };
}
