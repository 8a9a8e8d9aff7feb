import type { ConsumeMessage } from 'amqplib';
import type pg from 'pg';
import type { BenchBroker } from '../rabbitmq/broker.js';
import type { Measurement } from '../support/stats.js';
import { timedRawConsumer } from '../rabbitmq/timed-raw-consumer.js';

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
  return timedRawConsumer(broker, 'raw per-message inbox', queue, PREFETCH, (channel, end) => {
    let handled = 0;
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
      if (++handled === n) end.finish();
    };
    return (message) => void handle(message).catch(end.fail);
  });
}
