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
import type { Progress } from '../support/progress.js';
import { percentile, startClock, thousands, type Measurement } from '../support/stats.js';
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

function latencies(committed: Map<string, number>, received: Receipts, committedPerSecond: number): LatencyRun {
  const values = [...committed].map(([id, at]) => (received.get(id) as number) - at).sort((a, b) => a - b);
  return {
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: values[values.length - 1] as number,
    events: values.length,
    committedPerSecond,
  };
}

/** One variant at one rate; `variant` is what `--only` matches: `tidings@2000`. */
interface LatencyCase {
  readonly variant: string;
  readonly pipeline: LatencyVariant;
  readonly rate: number;
}

const casesAt = (rates: readonly number[]): LatencyCase[] =>
  rates.flatMap((rate) => VARIANTS.map((pipeline) => ({ variant: `${pipeline.variant}@${rate}`, pipeline, rate })));

/** When the last of `received` arrived: the end of a run, however far the pipeline fell behind the producer. */
const lastReceipt = (received: Receipts): number => [...received.values()].reduce((last, at) => Math.max(last, at), 0);

/** What every run of the scenario shares. */
interface LatencyBench {
  readonly broker: BenchBroker;
  readonly queueType: QueueType;
  readonly db: BenchDatabase;
  readonly producer: DataSource;
  readonly relaySource: DataSource;
  readonly pool: pg.Pool;
  readonly publisher: RabbitMqTransport;
  readonly progress: Progress;
}

/** What one run measured: its latencies, the stretch from the first commit to the last handler call, and a note. */
interface LatencyOutcome {
  readonly result: LatencyRun;
  readonly delivered: Measurement;
  readonly note: string;
}

/** One run of `c`: `n` events at its rate through a fresh outbox table and queue, both dropped afterwards. */
async function measureOnce(bench: LatencyBench, c: LatencyCase, n: number, what: string): Promise<LatencyOutcome> {
  const { broker, queueType, db, producer, progress } = bench;
  const queue = broker.name('outbox-latency');
  const table = await db.createOutbox('latency');
  // The producers NOTIFY after each commit, for the variant whose relay runs on a DataSource of its own.
  const store = new TypeOrmOutboxStore(producer, { schema: table.schema, table: table.table, notify: true });
  const received: Receipts = new Map();
  const committed = new Map<string, number>();
  let pipeline: Pipeline | undefined;
  try {
    await db.checkpoint();
    pipeline = await c.pipeline.start({ ...bench, queue, queueType, table, received });
    const envelopes = outboxEnvelopes(n);
    progress.step(`${what}: ${thousands(n)} events at ${c.rate}/s`);
    const startedAt = performance.now();
    const stop = startClock();
    await withTimeout(`${what} producer`, 600_000, produceAtRate(producer, store, envelopes, c.rate, committed));
    const committedPerSecond = (n * 1000) / (performance.now() - startedAt);
    await withTimeout(
      `${what} delivery`,
      120_000,
      allReceived(
        envelopes.map((e) => e.id),
        received,
      ),
    );
    const delivered = { ...stop(), elapsedMs: lastReceipt(received) - startedAt };
    const note = `${thousands(n)} events, committed at ${thousands(committedPerSecond)}/s: ${await pipeline.stop()}`;
    pipeline = undefined;
    return { result: latencies(committed, received, committedPerSecond), delivered, note };
  } finally {
    await pipeline?.stop().catch(() => undefined);
    await broker.deleteWithDependents(queue);
    await db.dropTable(table.qualified);
  }
}

/**
 * Commit → handler latency at fixed rates: at each of `latencyRates`, a producer commits one outbox row per transaction
 * at that rate for `latencySeconds`; a relay publishes them to a quorum queue bound to the exchange, and a consumer
 * records when each arrives. Latency is the handler's `performance.now()` minus the commit's (same process, same
 * clock). Tidings (relay with default options + `RabbitMqTransport.subscribe` through a `HandlerPipeline`), its relay
 * on a DataSource of its own or on the producers', against a hand-written LISTEN relay + raw amqplib consumer. The
 * producer is the same for all (`TypeOrmOutboxStore.add`, whose DataSource NOTIFYs after each commit). The rate a run
 * delivered is its events over the time from the first commit to the last handler call: a pipeline (or a producer)
 * that cannot keep the rate shows it there, and in latencies that grow through the run.
 */
export async function latencyScenario({ broker, options, progress }: BenchContext): Promise<VariantResult[]> {
  const queueType = outboxQueueType(options);
  const chosen = chosenOf(options, 'outbox-latency', queueType, casesAt(options.latencyRates));
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
    const bench: LatencyBench = {
      broker,
      queueType,
      db,
      // Twice the connections 2,000 commits/s need at 5 ms each: on a busy machine the pool must not bound the rate.
      producer: await db.dataSource(20, 'latency producer'),
      relaySource: await db.dataSource(10, 'latency relay'),
      pool: await db.pool(2, 'latency raw relay'),
      publisher,
      progress,
    };
    await publisher.start();
    const measured = new Map(chosen.map((c) => [c, { ...noRuns(), latencyMs: [] as LatencyRun[], notes: [] as string[] }]));
    // Rate by rate, so that the variants compared at one rate are measured minutes apart at most.
    for (const rate of options.latencyRates) {
      const atRate = chosen.filter((c) => c.rate === rate);
      if (atRate.length === 0) continue;
      for (let run = -1; run < options.runs; run++) {
        for (const c of orderOfRun(atRate, run)) {
          const n = Math.max(1, Math.round(rate * (run < 0 ? options.latencyWarmupSeconds : options.latencySeconds)));
          const what = `outbox-latency ${c.variant} ${run < 0 ? 'warm-up' : `run ${run + 1}/${options.runs}`}`;
          const { result, delivered, note } = await measureOnce(bench, c, n, what);
          const runs = run >= 0 ? measured.get(c) : undefined;
          runs?.latencyMs.push(result);
          runs?.notes.push(note);
          const summary = record(runs, n, delivered, 'event');
          const ms = (value: number): string => value.toFixed(2);
          progress.step(
            `${what}: p50 ${ms(result.p50)} ms, p95 ${ms(result.p95)} ms, p99 ${ms(result.p99)} ms, max ${ms(result.max)} ms; ` +
              `${summary}; ${note}`,
          );
        }
      }
    }
    for (const [c, runs] of measured)
      results.push({
        scenario: 'outbox-latency',
        queueType,
        variant: c.variant,
        label: c.pipeline.label,
        side: c.pipeline.side,
        messages: Math.round(c.rate * options.latencySeconds),
        targetRate: c.rate,
        ...runs,
      });
  } finally {
    await publisher.stop();
    await db.dispose();
  }
  return results;
}
