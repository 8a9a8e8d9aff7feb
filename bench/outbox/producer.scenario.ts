import { TypeOrmOutboxStore } from '@tidings/typeorm';
import type { Envelope } from '@tidings/core';
import pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { withTimeout } from '../rabbitmq/broker.js';
import { noRuns, orderOfRun, record, type BenchContext, type VariantResult } from '../rabbitmq/scenario.js';
import { startClock, thousands, type Measurement } from '../support/stats.js';
import { BenchDatabase, POSTGRES_URL, type BenchOutboxTable } from './database.js';
import { chosenOf, outboxEnvelopes } from './outbox.js';

/** Concurrent clients (transactions in progress at once), and the pool size. */
export const PRODUCER_CLIENTS = 8;

/** What one transaction writes: the order row is written by every variant, the outbox row by all but the first. */
interface Writer {
  readonly orders: string;
  readonly outbox: BenchOutboxTable;
  /** Tidings variants only (creating one registers its after-commit subscriber on the DataSource). */
  readonly store: TypeOrmOutboxStore | undefined;
}

interface ProducerVariant {
  readonly variant: string;
  readonly label: string;
  readonly side: 'raw' | 'tidings';
  /** The outbox write inside the transaction (after the business row). */
  write(manager: EntityManager, envelope: Envelope, writer: Writer): Promise<unknown>;
  /** Outbox rows each transaction leaves. */
  readonly outboxRows: 0 | 1;
  /** Tidings variants: the store's `notify` option (NOTIFY after each commit, for relays in other processes). */
  readonly notify?: boolean;
}

const insertOrder = (orders: string): string => `INSERT INTO ${orders} (order_id, customer_id, total_cents) VALUES ($1, $2, $3)`;

/** The hand-written outbox row: the same columns and JSON as Tidings writes, `deliver_at` left to its default. */
const rawInsert = (outbox: BenchOutboxTable): string =>
  `INSERT INTO ${outbox.qualified} (message_id, type, partition_key, envelope, data) VALUES ($1, $2, $3, $4, $5)`;
const rawInsertNotify = (outbox: BenchOutboxTable): string =>
  `WITH inserted AS (${rawInsert(outbox)} RETURNING 1) SELECT pg_notify($6, '') FROM inserted`;
const rawParameters = ({ data, ...attributes }: Envelope): unknown[] => [
  attributes.id,
  attributes.type,
  attributes.partitionkey ?? null,
  JSON.stringify(attributes),
  JSON.stringify(data),
];

const VARIANTS: readonly ProducerVariant[] = [
  { variant: 'business-only', label: 'business row only (no outbox)', side: 'raw', outboxRows: 0, write: () => Promise.resolve() },
  {
    variant: 'raw',
    label: 'business row + hand-written outbox INSERT',
    side: 'raw',
    outboxRows: 1,
    write: (manager, envelope, { outbox }) => manager.query(rawInsert(outbox), rawParameters(envelope)),
  },
  {
    variant: 'raw-notify',
    label: 'business row + hand-written INSERT + pg_notify in the transaction',
    side: 'raw',
    outboxRows: 1,
    write: (manager, envelope, { outbox }) => manager.query(rawInsertNotify(outbox), [...rawParameters(envelope), outbox.channel]),
  },
  {
    variant: 'tidings',
    label: 'business row + TypeOrmOutboxStore.add, notify: true (NOTIFY after commit)',
    side: 'tidings',
    outboxRows: 1,
    write: (manager, envelope, { store }) => (store as TypeOrmOutboxStore).add(manager, [envelope]),
  },
  {
    variant: 'tidings-no-notify',
    label: 'business row + TypeOrmOutboxStore.add, notify: false (the default)',
    side: 'tidings',
    outboxRows: 1,
    notify: false,
    write: (manager, envelope, { store }) => (store as TypeOrmOutboxStore).add(manager, [envelope]),
  },
];

/** `total` transactions by {@link PRODUCER_CLIENTS} concurrent clients, each `dataSource.transaction(body)`. */
async function commitAll(source: DataSource, total: number, body: (manager: EntityManager, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const client = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      await source.transaction((manager) => body(manager, i));
    }
  };
  await Promise.all(Array.from({ length: PRODUCER_CLIENTS }, client));
}

/**
 * Producer overhead: transactions by 8 concurrent clients through a TypeORM DataSource (pool of 8), each inserting an
 * order row and, but for `business-only`, one outbox row for a 1 KiB event. Hand-written INSERT of the same envelope
 * JSON (without NOTIFY, and with `pg_notify` inside the transaction) against `TypeOrmOutboxStore.add` with its defaults
 * (which wakes relays after the commit: one coalesced NOTIFY at a time, through the same pool). Same transaction
 * wrapper (`dataSource.transaction`) and table shape; every run gets a fresh DataSource, so the after-commit
 * subscriber Tidings registers on its DataSource never runs in the raw variants. A connection `LISTEN`s on the outbox
 * channel throughout, as a running relay would.
 */
export async function producerScenario({ options, progress }: BenchContext): Promise<VariantResult[]> {
  const chosen = chosenOf(options, 'outbox-produce', 'none', VARIANTS);
  if (chosen.length === 0) return [];
  const db = await BenchDatabase.open('produce');
  const results: VariantResult[] = [];
  try {
    const measured = new Map(chosen.map((v) => [v, noRuns()]));
    for (let run = -1; run < options.runs; run++) {
      for (const v of orderOfRun(chosen, run)) {
        const n = run < 0 ? options.producerWarmupTransactions : options.producerTransactions;
        const what = `outbox-produce ${v.variant} ${run < 0 ? 'warm-up' : `run ${run + 1}/${options.runs}`}`;
        const orders = await db.createOrders();
        const outbox = await db.createOutbox('produce');
        const source = await db.dataSource(PRODUCER_CLIENTS, 'producer');
        const listener = new pg.Client({ connectionString: POSTGRES_URL, application_name: 'tidings bench listener' });
        listener.on('error', () => undefined);
        let notifications = 0;
        listener.on('notification', () => notifications++);
        try {
          await listener.connect();
          await listener.query(`LISTEN "${outbox.channel}"`);
          const store =
            v.side === 'tidings'
              ? new TypeOrmOutboxStore(source, { schema: outbox.schema, table: outbox.table, notify: v.notify ?? true })
              : undefined;
          const writer: Writer = { orders, outbox, store };
          const envelopes = outboxEnvelopes(n);
          const insert = insertOrder(orders);
          await db.checkpoint();
          progress.step(`${what}: ${thousands(n)} transactions`);
          const measurement: Measurement = await withTimeout(
            what,
            600_000,
            (async () => {
              const stop = startClock();
              await commitAll(source, n, async (manager, i) => {
                const envelope = envelopes[i] as Envelope;
                await manager.query(insert, [envelope.id, 'c-000123', 12_345]);
                await v.write(manager, envelope, writer);
              });
              return stop();
            })(),
          );
          const rows = [await db.count(orders), await db.count(outbox.qualified)];
          if (rows[0] !== n || rows[1] !== n * v.outboxRows) throw new Error(`${what}: ${rows.join(' order rows, ')} outbox rows`);
          progress.step(
            `${what}: ${record(run >= 0 ? measured.get(v) : undefined, n, measurement, 'commit')}, ${notifications} NOTIFYs heard`,
          );
        } finally {
          await listener.end().catch(() => undefined);
          await source.destroy().catch(() => undefined);
          await db.dropTable(orders);
          await db.dropTable(outbox.qualified);
        }
      }
    }
    for (const [v, runs] of measured)
      results.push({
        scenario: 'outbox-produce',
        queueType: 'none',
        variant: v.variant,
        label: v.label,
        side: v.side,
        messages: options.producerTransactions,
        ...runs,
      });
  } finally {
    await db.dispose();
  }
  return results;
}
