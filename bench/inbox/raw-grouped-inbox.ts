import type { ConsumeMessage } from 'amqplib';
import type pg from 'pg';
import type { BenchBroker } from '../rabbitmq/broker.js';
import type { Measurement } from '../support/stats.js';
import { timedRawConsumer } from '../rabbitmq/timed-raw-consumer.js';

/** How the hand-written grouped consumer writes its effects, and how many groups it runs at once. */
export interface RawGroupShape {
  /** Messages per transaction at most. */
  readonly maxGroup: number;
  /** Transactions at once, each on a connection of its own. */
  readonly groupsInFlight: number;
  /**
   * `multi-row`: one insert for the whole group's effects (what a batch handler writes). `per-message`: one insert per
   * message, awaited one after the other in the group's transaction (what ordinary per-message handler code does).
   */
  readonly effects: 'multi-row' | 'per-message';
}

/** BASELINES' grouped consumer: up to 100 per transaction, one at a time, multi-row inserts. */
export const MULTI_ROW_GROUPS: RawGroupShape = { maxGroup: 100, groupsInFlight: 1, effects: 'multi-row' };

interface Order {
  readonly orderId: string;
  readonly customerId: string;
}

/**
 * The hand-written idempotent consumer a team would write for speed: amqplib with manual acks and, while fewer than
 * `groupsInFlight` transactions run, everything received (up to `maxGroup`) in one transaction: one multi-row insert
 * into the inbox (skipping ids it holds), the new messages' effects, COMMIT, then one multiple-ack (in group order, so
 * it never acks a message of a group still running). No savepoints, no decoding beyond JSON.parse: the ceiling for
 * the same work.
 */
export async function rawGroupedInbox(
  broker: BenchBroker,
  pool: pg.Pool,
  queue: string,
  n: number,
  tables: { readonly inbox: string; readonly effects: string },
  shape: RawGroupShape = MULTI_ROW_GROUPS,
): Promise<Measurement> {
  const clients = await Promise.all(Array.from({ length: shape.groupsInFlight }, () => pool.connect()));
  const idle = [...clients];
  const prefetch = shape.maxGroup * (shape.groupsInFlight + 2);
  try {
    return await timedRawConsumer(broker, 'raw grouped inbox', queue, prefetch, (channel, end) => {
      const waiting: ConsumeMessage[] = [];
      let handled = 0;
      let acked = Promise.resolve();
      const writeEffects = async (client: pg.PoolClient, ids: readonly string[], orders: readonly Order[]): Promise<void> => {
        if (shape.effects === 'multi-row') {
          await client.query(
            `INSERT INTO ${tables.effects} (message_id, order_id, customer_id) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`,
            [ids, orders.map((o) => o.orderId), orders.map((o) => o.customerId)],
          );
          return;
        }
        for (const [i, order] of orders.entries()) {
          await client.query(`INSERT INTO ${tables.effects} (message_id, order_id, customer_id) VALUES ($1, $2, $3)`, [
            ids[i],
            order.orderId,
            order.customerId,
          ]);
        }
      };
      const commitNext = async (): Promise<void> => {
        const client = idle.pop();
        if (!client) return;
        if (waiting.length === 0) {
          idle.push(client);
          return;
        }
        const group = waiting.splice(0, shape.maxGroup);
        // Groups ack in the order they were formed: a multiple-ack must not cover a group still running.
        const turn = acked;
        let acknowledged!: () => void;
        acked = new Promise<void>((resolve) => (acknowledged = resolve));
        try {
          const ids = group.map((m) => String(m.properties.headers?.['cloudEvents_id']));
          const orders = group.map((m) => JSON.parse(m.content.toString('utf8')) as Order);
          await client.query('BEGIN');
          const { rows } = await client.query<{ message_id: string }>(
            `INSERT INTO ${tables.inbox} (consumer, message_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING RETURNING message_id`,
            [queue, ids],
          );
          const fresh = new Set(rows.map((r) => r.message_id));
          const picked = ids.flatMap((id, i) => (fresh.has(id) ? [i] : []));
          await writeEffects(
            client,
            picked.map((i) => ids[i]!),
            picked.map((i) => orders[i]!),
          );
          await client.query('COMMIT');
          idle.push(client);
          void commitNext();
          await turn;
          channel.ack(group[group.length - 1]!, true);
          handled += group.length;
          if (handled >= n) end.finish();
        } catch (error) {
          end.fail(error);
        } finally {
          acknowledged();
        }
      };
      return (message) => {
        waiting.push(message);
        void commitNext();
      };
    });
  } finally {
    for (const client of clients) client.release();
  }
}
