import { OutboxRelay, type Envelope, type OutboxRelayOptions } from '@tidings/core';
import { RabbitMqTransport } from '@tidings/rabbitmq';
import { TypeOrmOutboxStore } from '@tidings/typeorm';
import type pg from 'pg';
import type { DataSource } from 'typeorm';
import { publishPipelined, RABBITMQ_URL, silentLogger, withTimeout } from '../rabbitmq/broker.js';
import { EVENT_TYPE, handWritten } from '../rabbitmq/payload.js';
import { noRuns, orderOfRun, record, type BenchContext, type VariantResult } from '../rabbitmq/scenario.js';
import { startClock, thousands, type Measurement } from '../support/stats.js';
import { BenchDatabase, type BenchOutboxTable } from './database.js';
import { ObservedStore } from './observed-store.js';
import { chosenOf, outboxEnvelopes, outboxQueueType } from './outbox.js';
import { drainRaw, type RawTarget } from './raw-relay.js';

const WINDOW = 1000;

/** What a variant gets for one run: the rows (already in `table` if the variant relays), and where to publish. */
interface RelayRun {
  readonly envelopes: readonly Envelope[];
  readonly table: BenchOutboxTable;
  readonly raw: RawTarget;
  readonly pool: pg.Pool;
  readonly relaySource: DataSource;
  readonly transport: RabbitMqTransport;
}

interface RelayVariant {
  readonly variant: string;
  readonly label: string;
  readonly side: 'raw' | 'tidings';
  /** Whether the rows are written to the outbox table before the clock starts (all but the publish reference). */
  readonly relays: boolean;
  /** Partition keys of the rows, if any. */
  readonly keys?: number;
  /** Moves every row to the broker; the measurement runs from the relay's start until the last row is confirmed and deleted. */
  run(run: RelayRun): Promise<{ measurement: Measurement; note?: string }>;
}

const rawRelay = (variant: string, label: string, batchSize: number, workers: number): RelayVariant => ({
  variant,
  label,
  side: 'raw',
  relays: true,
  async run({ envelopes, table, raw, pool }) {
    const stop = startClock();
    const moved = await drainRaw(pool, table, batchSize, workers, raw);
    const measurement = stop();
    if (moved !== envelopes.length) throw new Error(`${variant} moved ${moved} of ${envelopes.length} rows`);
    return { measurement };
  },
});

const tidings = (variant: string, label: string, options: OutboxRelayOptions, keys?: number): RelayVariant => ({
  variant,
  label,
  side: 'tidings',
  relays: true,
  ...(keys !== undefined && { keys }),
  async run({ envelopes, table, relaySource, transport }) {
    const store = new ObservedStore(new TypeOrmOutboxStore(relaySource, { schema: table.schema, table: table.table }));
    const relay = new OutboxRelay(store, transport, { logger: silentLogger, ...options });
    const completed = store.whenCompleted(envelopes.length);
    try {
      const stop = startClock();
      await relay.start();
      await completed;
      const measurement = stop();
      const stats = relay.stats();
      if (stats.failedAttempts > 0 || stats.unroutable > 0) throw new Error(`relay stats: ${JSON.stringify(stats)}`);
      return { measurement, note: `${store.claims} claims (${store.emptyClaims} empty)` };
    } finally {
      await relay.stop();
    }
  },
});

const VARIANTS: readonly RelayVariant[] = [
  {
    variant: 'raw',
    label: `raw pipelined publish, window ${WINDOW} (no database)`,
    side: 'raw',
    relays: false,
    async run({ envelopes, raw }) {
      const stop = startClock();
      await publishPipelined(raw.channel, raw.exchange, envelopes.length, (i) => handWritten(envelopes[i] as Envelope), WINDOW);
      return { measurement: stop() };
    },
  },
  rawRelay('raw-naive', 'raw naive relay, 1 × 500 (claim, publish, confirm, delete)', 500, 1),
  rawRelay('raw-4x500', 'raw relay, 4 × 500 in flight', 500, 4),
  rawRelay('raw-4x1000', 'raw relay, 4 × 1000 in flight', 1000, 4),
  tidings('tidings', 'tidings relay, defaults (4 × 500)', {}),
  tidings('tidings-4x1000', 'tidings relay, batchSize 1000 (4 × 1000)', { batchSize: 1000 }),
  // Events keyed by aggregate, interleaved: many aggregates (more keys than 4 claims × 500 rows hold at once), then few.
  tidings('tidings-keys-10k', 'tidings relay, defaults, 10,000 partition keys', {}, 10_000),
  tidings('tidings-keys-1k', 'tidings relay, defaults, 1,000 partition keys', {}, 1000),
];

/**
 * Relay throughput: `relayRows` outbox rows (1 KiB events) committed before the clock starts, moved to a quorum queue
 * bound to the exchange, measured until the table is empty and every row confirmed. Hand-written relays (naive, and
 * several batches in flight) and the raw pipelined publish of as many messages (no database) are the references.
 * Every run of every variant gets a fresh outbox table and a fresh queue; the order alternates between runs.
 */
export async function relayScenario({ broker, options, progress }: BenchContext): Promise<VariantResult[]> {
  const queueType = outboxQueueType(options);
  const chosen = chosenOf(options, 'outbox-relay', queueType, VARIANTS);
  if (chosen.length === 0) return [];
  const db = await BenchDatabase.open('relay');
  const rawConnection = await broker.connect('raw relay');
  const transport = new RabbitMqTransport({
    url: RABBITMQ_URL,
    exchange: broker.exchange,
    connectionName: 'tidings bench relay',
    logger: silentLogger,
  });
  const results: VariantResult[] = [];
  try {
    const filler = await db.dataSource(2, 'filler');
    const relaySource = await db.dataSource(10, 'relay');
    const pool = await db.pool(10, 'raw relay');
    const raw: RawTarget = { channel: await rawConnection.createConfirmChannel(), exchange: broker.exchange };
    await transport.start();
    const measured = new Map(chosen.map((v) => [v, { ...noRuns(), notes: [] as string[] }]));
    for (let run = -1; run < options.runs; run++) {
      for (const v of orderOfRun(chosen, run)) {
        const n = run < 0 ? options.relayWarmupRows : options.relayRows;
        const what = `outbox-relay ${v.variant} ${run < 0 ? 'warm-up' : `run ${run + 1}/${options.runs}`}`;
        const queue = broker.name('outbox-relay');
        await broker.declareQueue(queue, queueType, EVENT_TYPE);
        const table = await db.createOutbox('relay');
        try {
          const envelopes = outboxEnvelopes(n, v.keys);
          await db.checkpoint();
          if (v.relays) {
            progress.step(`${what}: writing ${thousands(n)} rows`);
            await db.fill(filler, table, envelopes);
          }
          const { measurement, note } = await withTimeout(what, 600_000, v.run({ envelopes, table, raw, pool, relaySource, transport }));
          const left = await db.count(table.qualified);
          const stored = await broker.messageCount(queue);
          if (left !== 0 || stored !== n) throw new Error(`${what}: ${left} rows left, ${stored} of ${n} messages in ${queue}`);
          const runs = run >= 0 ? measured.get(v) : undefined;
          if (note) runs?.notes.push(note);
          progress.step(`${what}: ${record(runs, n, measurement, 'row')}${note ? `, ${note}` : ''}`);
        } finally {
          await broker.deleteQueues(queue);
          await db.dropTable(table.qualified);
        }
      }
    }
    for (const [v, runs] of measured)
      results.push({
        scenario: 'outbox-relay',
        queueType,
        variant: v.variant,
        label: v.label,
        side: v.side,
        messages: options.relayRows,
        ...runs,
      });
  } finally {
    await transport.stop();
    await rawConnection.close().catch(() => undefined);
    await db.dispose();
  }
  return results;
}
