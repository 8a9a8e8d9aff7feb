import type { ConsumeMessage } from 'amqplib';
import type pg from 'pg';
import type { BenchBroker } from '../rabbitmq/broker.js';
import type { Measurement } from '../support/stats.js';
import { timedRawConsumer } from '../rabbitmq/timed-raw-consumer.js';

const PREFETCH = 300;
const MAX_GROUP = 100;

/**
 * The hand-written idempotent consumer a team would write for speed (BASELINES' grouped figure): amqplib with manual
 * acks, and, while no transaction is running, everything received (up to {@link MAX_GROUP}) in one transaction: one
 * multi-row insert into the inbox (skipping ids it holds), one multi-row insert of the new messages' effects, COMMIT,
 * then one multiple-ack. No per-message savepoints, no decoding beyond JSON.parse: the ceiling for the same work.
 */
export async function rawGroupedInbox(
  broker: BenchBroker,
  pool: pg.Pool,
  queue: string,
  n: number,
  tables: { readonly inbox: string; readonly effects: string },
): Promise<Measurement> {
  const client = await pool.connect();
  try {
    return await timedRawConsumer(broker, 'raw grouped inbox', queue, PREFETCH, (channel, end) => {
      const waiting: ConsumeMessage[] = [];
      let committing = false;
      let handled = 0;
      const commitNext = async (): Promise<void> => {
        if (committing || waiting.length === 0) return;
        committing = true;
        const group = waiting.splice(0, MAX_GROUP);
        try {
          const ids = group.map((m) => String(m.properties.headers?.['cloudEvents_id']));
          const orders = group.map((m) => JSON.parse(m.content.toString('utf8')) as { orderId: string; customerId: string });
          await client.query('BEGIN');
          const { rows } = await client.query<{ message_id: string }>(
            `INSERT INTO ${tables.inbox} (consumer, message_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING RETURNING message_id`,
            [queue, ids],
          );
          const fresh = new Set(rows.map((r) => r.message_id));
          const picked = ids.flatMap((id, i) => (fresh.has(id) ? [i] : []));
          await client.query(
            `INSERT INTO ${tables.effects} (message_id, order_id, customer_id) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`,
            [picked.map((i) => ids[i]), picked.map((i) => orders[i]!.orderId), picked.map((i) => orders[i]!.customerId)],
          );
          await client.query('COMMIT');
          channel.ack(group[group.length - 1]!, true);
          handled += group.length;
          if (handled >= n) end.finish();
        } catch (error) {
          end.fail(error);
        } finally {
          committing = false;
        }
        void commitNext();
      };
      return (message) => {
        waiting.push(message);
        void commitNext();
      };
    });
  } finally {
    client.release();
  }
}
