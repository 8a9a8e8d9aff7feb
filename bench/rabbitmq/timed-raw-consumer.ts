import type { Channel, ConsumeMessage } from 'amqplib';
import { startClock, type Measurement } from '../support/stats.js';
import type { BenchBroker } from './broker.js';

/**
 * Wait after the last ack (the clock has stopped) before closing: RabbitMQ 3.10 applies a quorum queue's acks
 * asynchronously, and closing the channel at once gives some just-acked messages back to the queue.
 */
export const ACK_GRACE_MS = 500;
export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How a hand-written consumer ends its run: `finish` once every message is handled, `fail` on an error. */
export interface RunEnd {
  finish(): void;
  fail(error: unknown): void;
}

/**
 * Runs a hand-written consumer of `queue` on a connection of its own with `prefetch`, timed from `consume` until the
 * consumer calls `end.finish()`; then lets its last acks out and closes. `consumerOf` builds the consumer's callback.
 */
export async function timedRawConsumer(
  broker: BenchBroker,
  label: string,
  queue: string,
  prefetch: number,
  consumerOf: (channel: Channel, end: RunEnd) => (message: ConsumeMessage) => void,
): Promise<Measurement> {
  const connection = await broker.connect(label);
  try {
    const channel = await connection.createChannel();
    await channel.prefetch(prefetch);
    let end!: RunEnd;
    const done = new Promise<void>((finish, fail) => (end = { finish, fail }));
    const onMessage = consumerOf(channel, end);
    const stop = startClock();
    await channel.consume(
      queue,
      (message) => {
        if (!message) return end.fail(new Error(`consumer of ${queue} cancelled`));
        onMessage(message);
      },
      { noAck: false },
    );
    await done;
    const measurement = stop();
    await pause(ACK_GRACE_MS);
    // Closing the channel first flushes its acks: a connection close can overtake frames still queued on a channel.
    await channel.close();
    return measurement;
  } finally {
    await connection.close().catch(() => undefined);
  }
}
