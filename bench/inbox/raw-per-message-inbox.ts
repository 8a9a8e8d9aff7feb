import type { ConsumeMessage } from 'amqplib';
import type pg from 'pg';
import type { BenchBroker } from '../rabbitmq/broker.js';
import { ACK_GRACE_MS, pause } from '../rabbitmq/consume.scenario.js';
import { startClock, type Measurement } from '../support/stats.js';

const PREFETCH = 100;

/**
 * The hand-written counterpart of Tidings' transaction per message: amqplib with manual acks, prefetch
 * {@link PREFETCH}, and for each delivery a transaction on a connection of `pool` (so as many at once as the pool
 * has connections; deliveries beyond that wait in the pool's queue): `BEGIN`, the inbox row (`ON CONFLICT DO
 * NOTHING`), the effect only if that row is new, `COMMIT`, then the ack. The same statements and round trips as
 * `TypeOrmInboxStore.runOnce` with a one-insert handler, without TypeORM, decoding or the pipeline.
 */
export async function rawPerMessageInbox(
  broker: BenchBroker,
  pool: pg.Pool,
  queue: string,
  n: number,
  tables: { readonly inbox: string; readonly effects: string },
): Promise<Measurement> {
  const connection = await broker.connect('raw per-message inbox');
  try {
    const channel = await connection.createChannel();
    await channel.prefetch(PREFETCH);
    let handled = 0;
    let finish!: () => void;
    let fail!: (error: unknown) => void;
    const done = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));
    const handle = async (message: ConsumeMessage): Promise<void> => {
      const id = String(message.properties.headers?.['cloudEvents_id']);
      const order = JSON.parse(message.content.toString('utf8')) as { orderId: string; customerId: string };
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const inserted = await client.query(
          `INSERT INTO ${tables.inbox} (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
          [queue, id],
        );
        if (inserted.rowCount === 1)
          await client.query(`INSERT INTO ${tables.effects} (message_id, order_id, customer_id) VALUES ($1, $2, $3)`, [
            id,
            order.orderId,
            order.customerId,
          ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
      channel.ack(message);
      if (++handled === n) finish();
    };
    const stop = startClock();
    await channel.consume(
      queue,
      (message) => {
        if (!message) return fail(new Error(`consumer of ${queue} cancelled`));
        handle(message).catch(fail);
      },
      { noAck: false },
    );
    await done;
    const measurement = stop();
    await pause(ACK_GRACE_MS);
    await channel.close();
    return measurement;
  } finally {
    await connection.close().catch(() => undefined);
  }
}
