import type { EnvelopeAttributes } from '@tidings/core';
import type { ConfirmChannel } from 'amqplib';
import pg from 'pg';
import { publishPipelined } from '../rabbitmq/broker.js';
import { handWrittenWithBody } from '../rabbitmq/payload.js';
import type { BenchOutboxTable } from './database.js';

/** Where a hand-written relay publishes: one confirm channel shared by all its batches, and the exchange. */
export interface RawTarget {
  readonly channel: ConfirmChannel;
  readonly exchange: string;
}

interface Row {
  readonly id: string;
  /** The attributes: the table keeps the payload apart, in `data`. */
  readonly envelope: EnvelopeAttributes;
  readonly data: string;
}

/**
 * One hand-written relay transaction on `client`: claim up to `batchSize` due rows in id order (skipping rows other
 * transactions hold), publish them all with every confirm in flight, delete them once all are confirmed, commit.
 * The same statements as anyone would write against this table; no partition-key ordering. Returns the rows moved.
 */
export async function relayBatch(client: pg.ClientBase, table: BenchOutboxTable, batchSize: number, target: RawTarget): Promise<number> {
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<Row>(
      `SELECT id, envelope, data::text AS data FROM ${table.qualified}
       WHERE published_at IS NULL AND deliver_at <= now()
       ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [batchSize],
    );
    if (rows.length > 0) {
      await publishPipelined(
        target.channel,
        target.exchange,
        rows.length,
        (i) => {
          const row = rows[i] as Row;
          return handWrittenWithBody(row.envelope, Buffer.from(row.data));
        },
        rows.length,
      );
      await client.query(`DELETE FROM ${table.qualified} WHERE id = ANY($1::bigint[])`, [rows.map((row) => row.id)]);
    }
    await client.query('COMMIT');
    return rows.length;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Drains a table that no one writes to with `workers` loops of {@link relayBatch}, each on a connection of its own
 * (so up to `workers` batches are in flight: one claims while another awaits confirms). Resolves with the rows moved
 * once every loop found nothing left to claim. `workers` 1 is the naive relay: database and broker take turns.
 * `onMoved` hears of every committed batch (a process reporting its progress).
 */
export async function drainRaw(
  pool: pg.Pool,
  table: BenchOutboxTable,
  batchSize: number,
  workers: number,
  target: RawTarget,
  onMoved?: (rows: number) => void,
): Promise<number> {
  let moved = 0;
  const loop = async (): Promise<void> => {
    const client = await pool.connect();
    try {
      for (;;) {
        const n = await relayBatch(client, table, batchSize, target);
        if (n === 0) return;
        moved += n;
        onMoved?.(n);
      }
    } finally {
      client.release();
    }
  };
  await Promise.all(Array.from({ length: workers }, loop));
  return moved;
}

/**
 * A hand-written relay that runs until stopped, woken by the outbox's NOTIFY (a dedicated `LISTEN` connection) and
 * polling every second otherwise: one loop of {@link relayBatch} that claims again at once while it finds work or
 * a notification arrived meanwhile. The latency reference for Tidings' relay.
 */
export class ListeningRawRelay {
  /** Transactions run, and those that found nothing to claim. */
  claims = 0;
  emptyClaims = 0;
  private listener: pg.Client | undefined;
  private running = false;
  private notified = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private failure: unknown;

  constructor(
    private readonly pool: pg.Pool,
    private readonly connectionString: string,
    private readonly table: BenchOutboxTable,
    private readonly batchSize: number,
    private readonly target: RawTarget,
  ) {}

  async start(): Promise<void> {
    const listener = new pg.Client({ connectionString: this.connectionString, application_name: 'tidings bench raw listener' });
    listener.on('error', () => undefined);
    listener.on('notification', () => this.notify());
    await listener.connect();
    await listener.query(`LISTEN "${this.table.channel}"`);
    this.listener = listener;
    this.running = true;
    this.loop = this.run().catch((error: unknown) => {
      this.failure = error;
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
    if (this.failure !== undefined) throw this.failure;
  }

  private notify(): void {
    this.notified = true;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async run(): Promise<void> {
    const client = await this.pool.connect();
    try {
      while (this.running) {
        this.notified = false;
        const n = await relayBatch(client, this.table, this.batchSize, this.target);
        this.claims += 1;
        if (n === 0) this.emptyClaims += 1;
        if (n < this.batchSize && !this.notified && this.running) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 1000);
            this.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
      }
    } finally {
      client.release();
    }
  }
}
