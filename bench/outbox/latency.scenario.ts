import {
  ErrorClassifier,
  getEventDefinition,
  HandlerPipeline,
  OutboxRelay,
  RetryPolicy,
  TopicPattern,
  type Envelope,
  type HandlerBinding,
} from '@tidings/core';
import { RabbitMqTransport } from '@tidings/rabbitmq';
import { TypeOrmOutboxStore } from '@tidings/typeorm';
import type pg from 'pg';
import type { DataSource } from 'typeorm';
import { RABBITMQ_URL, silentLogger, withTimeout, type BenchBroker, type QueueType } from '../rabbitmq/broker.js';
import { EVENT_TYPE, OrderPlaced } from '../rabbitmq/payload.js';
import { noRuns, orderOfRun, record, type BenchContext, type LatencyRun, type VariantResult } from '../rabbitmq/scenario.js';
import { percentile, startClock, thousands } from '../support/stats.js';
import { BenchDatabase, POSTGRES_URL, type BenchOutboxTable } from './database.js';
import { ObservedStore } from './observed-store.js';
import { chosenOf, outboxEnvelopes, outboxQueueType, pause } from './outbox.js';
import { ListeningRawRelay } from './raw-relay.js';

const PREFETCH = 100;

/** Receive times (`performance.now()`) by event id. */
type Receipts = Map<string, number>;

/** What a variant gets for one run. */
interface LatencyRunContext {
  readonly broker: BenchBroker;
  readonly queue: string;
  readonly queueType: QueueType;
  readonly table: BenchOutboxTable;
  readonly received: Receipts;
  /** The producers' DataSource, and a second one for relays that run as if in another process. */
  readonly producer: DataSource;
  readonly relaySource: DataSource;
  readonly pool: pg.Pool;
  readonly publisher: RabbitMqTransport;
}

/** A started relay and consumer: `stop` stops both and says what the relay did. */
interface Pipeline {
  stop(): Promise<string>;
}

interface LatencyVariant {
  readonly variant: string;
  readonly label: string;
  readonly side: 'raw' | 'tidings';
  /** Starts the consumer of `queue` (recording into `received`) and the relay of `table`. */
  start(run: LatencyRunContext): Promise<Pipeline>;
}

const raw: LatencyVariant = {
  variant: 'raw',
  label: `raw LISTEN relay (1 × 500) + raw amqplib consumer, prefetch ${PREFETCH}`,
  side: 'raw',
  async start({ broker, queue, queueType, table, received, pool }) {
    await broker.declareQueue(queue, queueType, EVENT_TYPE);
    // A connection each for publishing and consuming, as the transport has: with Nagle's algorithm on (amqplib's
    // default), a consumer's acks and a publisher's frames on one socket delay each other by tens of milliseconds.
    const consuming = await broker.connect('raw latency consumer');
    const publishing = await broker.connect('raw latency relay');
    const consumer = await consuming.createChannel();
    await consumer.prefetch(PREFETCH);
    await consumer.consume(queue, (message) => {
      if (!message) return;
      received.set(String(message.properties.messageId), performance.now());
      consumer.ack(message);
    });
    const relay = new ListeningRawRelay(pool, POSTGRES_URL, table, 500, {
      channel: await publishing.createConfirmChannel(),
      exchange: broker.exchange,
    });
    await relay.start();
    return {
      async stop() {
        await relay.stop();
        await consumer.close();
        await Promise.all([consuming.close(), publishing.close()]);
        return `${relay.claims} claims (${relay.emptyClaims} empty)`;
      },
    };
  },
};

/**
 * Tidings: `RabbitMqTransport.subscribe` through a `HandlerPipeline` whose handler records the receive time, and an
 * `OutboxRelay` with default options. `inProcess`: the relay's store shares the producers' DataSource, so their
 * commits wake it directly (TypeORM after-commit hook); otherwise it has a DataSource of its own, as a relay in
 * another process has, and wakes on the producers' NOTIFY (sent after each commit, coalesced) through its LISTEN.
 */
const tidings = (variant: string, label: string, inProcess: boolean): LatencyVariant => ({
  variant,
  label,
  side: 'tidings',
  async start({ broker, queue, queueType, table, received, producer, relaySource, publisher }) {
    const consumer = new RabbitMqTransport({
      url: RABBITMQ_URL,
      exchange: broker.exchange,
      connectionName: 'tidings bench latency consumer',
      queueType,
      logger: silentLogger,
    });
    const handler: HandlerBinding = {
      name: 'bench receive time',
      target: { event: getEventDefinition(OrderPlaced) },
      handle: (_data, context) => void received.set(context.envelope.id, performance.now()),
      retry: new RetryPolicy(),
      classifier: new ErrorClassifier(),
    };
    const pipeline = new HandlerPipeline({ subscription: queue, handlers: [handler] });
    await consumer.start();
    try {
      await consumer.subscribe(
        {
          name: queue,
          service: 'bench',
          patterns: [TopicPattern.parse(EVENT_TYPE)],
          prefetch: PREFETCH,
          concurrency: PREFETCH,
          retryTiersMs: [1000],
        },
        pipeline.deliver,
      );
    } finally {
      for (const declared of consumer.declaredTopology()) broker.track(declared.queue, declared.deadLetterQueue, ...declared.retryQueues);
    }
    const source = inProcess ? producer : relaySource;
    const store = new ObservedStore(new TypeOrmOutboxStore(source, { schema: table.schema, table: table.table }));
    const relay = new OutboxRelay(store, publisher, { logger: silentLogger });
    await relay.start();
    return {
      async stop() {
        await relay.stop();
        await consumer.stop();
        return `${store.claims} claims (${store.emptyClaims} empty)`;
      },
    };
  },
});

const VARIANTS: readonly LatencyVariant[] = [
  raw,
  tidings('tidings', `tidings relay (defaults, own DataSource: woken by NOTIFY) + subscribe, prefetch ${PREFETCH}`, false),
  tidings('tidings-in-process', `tidings relay (defaults, producers' DataSource: woken after commit) + subscribe`, true),
];

/**
 * Commits `count` events, one per transaction, at `rate` per second on a fixed schedule (open loop: a transaction
 * starts when due, whether or not earlier ones finished), and stamps each commit's acknowledgement by event id.
 */
async function produceAtRate(
  source: DataSource,
  store: TypeOrmOutboxStore,
  envelopes: readonly Envelope[],
  rate: number,
  committed: Map<string, number>,
): Promise<void> {
  const interval = 1000 / rate;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  let next = 0;
  while (next < envelopes.length) {
    const now = performance.now();
    while (next < envelopes.length && started + next * interval <= now) {
      const envelope = envelopes[next++] as Envelope;
      inFlight.push(
        source.transaction((manager) => store.add(manager, [envelope])).then(() => void committed.set(envelope.id, performance.now())),
      );
    }
    if (next < envelopes.length) await pause(Math.max(0, started + next * interval - performance.now()));
  }
  await Promise.all(inFlight);
}

/** Waits until every id in `ids` was received (a 10 ms poll: it ends the run, never a latency). */
async function allReceived(ids: readonly string[], received: Receipts): Promise<void> {
  while (ids.some((id) => !received.has(id))) await pause(10);
}

function latencies(committed: Map<string, number>, received: Receipts): LatencyRun {
  const values = [...committed].map(([id, at]) => (received.get(id) as number) - at).sort((a, b) => a - b);
  return {
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: values[values.length - 1] as number,
    events: values.length,
  };
}

/**
 * Commit → handler latency at a fixed rate: a producer commits one outbox row per transaction at `latencyRate`/s for
 * `latencySeconds`; a relay publishes them to a quorum queue bound to the exchange, and a consumer records when each
 * arrives. Latency is the handler's `performance.now()` minus the commit's (same process, same clock). Tidings (relay
 * with default options + `RabbitMqTransport.subscribe` through a `HandlerPipeline`), its relay on a DataSource of its
 * own or on the producers', against a hand-written LISTEN relay + raw amqplib consumer. The producer is the same for
 * all (`TypeOrmOutboxStore.add`, whose DataSource NOTIFYs after each commit).
 */
export async function latencyScenario({ broker, options, progress }: BenchContext): Promise<VariantResult[]> {
  const queueType = outboxQueueType(options);
  const chosen = chosenOf(options, 'outbox-latency', queueType, VARIANTS);
  if (chosen.length === 0) return [];
  const db = await BenchDatabase.open('latency');
  const publisher = new RabbitMqTransport({
    url: RABBITMQ_URL,
    exchange: broker.exchange,
    connectionName: 'tidings bench latency relay',
    logger: silentLogger,
  });
  const results: VariantResult[] = [];
  try {
    const producer = await db.dataSource(10, 'latency producer');
    const relaySource = await db.dataSource(10, 'latency relay');
    const pool = await db.pool(2, 'latency raw relay');
    await publisher.start();
    const measured = new Map(chosen.map((v) => [v, { ...noRuns(), latencyMs: [] as LatencyRun[], notes: [] as string[] }]));
    for (let run = -1; run < options.runs; run++) {
      for (const v of orderOfRun(chosen, run)) {
        const seconds = run < 0 ? options.latencyWarmupSeconds : options.latencySeconds;
        const n = Math.max(1, Math.round(options.latencyRate * seconds));
        const what = `outbox-latency ${v.variant} ${run < 0 ? 'warm-up' : `run ${run + 1}/${options.runs}`}`;
        const queue = broker.name('outbox-latency');
        const table = await db.createOutbox('latency');
        // The producers NOTIFY after each commit, for the variant whose relay runs on a DataSource of its own.
        const store = new TypeOrmOutboxStore(producer, { schema: table.schema, table: table.table, notify: true });
        const received: Receipts = new Map();
        const committed = new Map<string, number>();
        let pipeline: Pipeline | undefined;
        try {
          await db.checkpoint();
          pipeline = await v.start({ broker, queue, queueType, table, received, producer, relaySource, pool, publisher });
          const envelopes = outboxEnvelopes(n);
          progress.step(`${what}: ${thousands(n)} events at ${options.latencyRate}/s`);
          const stop = startClock();
          await withTimeout(`${what} producer`, 600_000, produceAtRate(producer, store, envelopes, options.latencyRate, committed));
          const produced = stop();
          await withTimeout(
            `${what} delivery`,
            30_000,
            allReceived(
              envelopes.map((e) => e.id),
              received,
            ),
          );
          const note = await pipeline.stop();
          pipeline = undefined;
          const result = latencies(committed, received);
          const runs = run >= 0 ? measured.get(v) : undefined;
          runs?.latencyMs.push(result);
          runs?.notes.push(`${thousands(n)} events: ${note}`);
          const summary = record(runs, n, produced, 'event');
          const ms = (value: number): string => value.toFixed(2);
          progress.step(
            `${what}: p50 ${ms(result.p50)} ms, p95 ${ms(result.p95)} ms, p99 ${ms(result.p99)} ms, max ${ms(result.max)} ms; ` +
              `${summary}; ${note}`,
          );
        } finally {
          await pipeline?.stop().catch(() => undefined);
          await broker.deleteWithDependents(queue);
          await db.dropTable(table.qualified);
        }
      }
    }
    for (const [v, runs] of measured)
      results.push({
        scenario: 'outbox-latency',
        queueType,
        variant: v.variant,
        label: v.label,
        side: v.side,
        messages: Math.round(options.latencyRate * options.latencySeconds),
        ...runs,
      });
  } finally {
    await publisher.stop();
    await db.dispose();
  }
  return results;
}
