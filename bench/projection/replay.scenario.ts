import { ProjectionRebuild, type EventLog } from '@tidings/core';
import { RabbitMqTransport } from '@tidings/rabbitmq';
import { TransactionContext, TypeOrmProjectionStore } from '@tidings/typeorm';
import type { ChannelModel } from 'amqplib';
import type { DataSource } from 'typeorm';
import { BenchDatabase } from '../outbox/database.js';
import { chosenOf } from '../outbox/outbox.js';
import { RABBITMQ_URL, silentLogger, withTimeout } from '../rabbitmq/broker.js';
import { noRuns, orderOfRun, record, type BenchContext, type BenchOptions, type VariantResult } from '../rabbitmq/scenario.js';
import { startClock, thousands, type Measurement } from '../support/stats.js';
import { loadFeedApp, qaHistory, type FeedApp, type QaHistory } from './feed-app.js';
import { PrefixEventLog, PreloadedEventLog, TimedProjectionStore } from './replay-support.js';

/** What the hand-written reader asks for at once: the same as StreamEventLog's READ_PREFETCH. */
const RAW_PREFETCH = 2000;
const RAW_ACK_EVERY = 200;
const BATCH_SIZE = 1000;
const PUBLISH_CHUNK = 1000;
let copies = 0;

/** What a variant gets for one run: the first `n` entries of the stream (a prefix of the log, or all of it). */
interface ReplayRun {
  readonly n: number;
  /** The stream's first `n` entries. */
  readonly log: EventLog;
  /** The same entries, read into memory before the runs. */
  readonly preloaded: () => Promise<EventLog>;
  readonly stream: string;
  readonly rawConnection: ChannelModel;
  readonly db: BenchDatabase;
  readonly source: DataSource;
  readonly app: FeedApp;
  readonly history: QaHistory;
}

interface ReplayVariant {
  readonly variant: string;
  readonly label: (options: BenchOptions) => string;
  readonly side: 'raw' | 'tidings';
  /** Entries a measured run (or the warm-up) replays. */
  entries(options: BenchOptions, warmup: boolean): number;
  /** Rebuilds from the entries preloaded into memory rather than from the stream. */
  readonly fromMemory?: boolean;
  run(run: ReplayRun): Promise<{ measurement: Measurement; note?: string }>;
}

const full = (options: BenchOptions, warmup: boolean): number =>
  warmup ? Math.min(options.replayWarmupEntries, options.replayEntries) : options.replayEntries;

/**
 * Hand-written amqplib: a consumer at `x-stream-offset` 0, prefetch 2000, acking every 200th delivery with `multiple`
 * (as the library's stream reader does; a frame per delivery costs a fifth of a read), until offset n − 1.
 */
async function rawRead(connection: ChannelModel, stream: string, n: number): Promise<{ count: number; last: number }> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  await channel.prefetch(RAW_PREFETCH);
  let count = 0;
  let received = 0;
  let last = -1;
  try {
    await new Promise<void>((resolve, reject) => {
      channel
        .consume(
          stream,
          (message) => {
            if (!message) return reject(new Error(`stream ${stream} was deleted while reading`));
            if (++received % RAW_ACK_EVERY === 0) channel.ack(message, true);
            const offset = Number(message.properties.headers?.['x-stream-offset']);
            if (offset >= n) return; // a head marker of an earlier read, past the events
            count++;
            last = offset;
            if (offset === n - 1) resolve();
          },
          { noAck: false, arguments: { 'x-stream-offset': 0 } },
        )
        .catch(reject);
    });
  } finally {
    await channel.close().catch(() => undefined);
  }
  return { count, last };
}

/** A rebuild of the feed into a fresh copy (its own schemas, dropped afterwards), timed from `run()` to its return. */
const rebuildVariant = (
  variant: string,
  batchSize: number,
  label: (options: BenchOptions) => string,
  perEvent: boolean,
  fromMemory = false,
): ReplayVariant => ({
  variant,
  label,
  side: 'tidings',
  fromMemory,
  entries: (options, warmup) => {
    if (!perEvent) return full(options, warmup);
    const n = Math.min(options.replayPerEventEntries, options.replayEntries);
    return warmup ? Math.max(1, Math.floor(Math.min(options.replayWarmupEntries, n) / 10)) : n;
  },
  async run({ n, log: streamLog, preloaded, db, source, app, history }) {
    const log = fromMemory ? await preloaded() : streamLog;
    const schema = `bench_feed_${process.pid}_${Date.now().toString(36)}_${++copies}`;
    const schemas = [schema, `${schema}__rebuild`, `${schema}__retired`];
    db.adopt(...schemas);
    const problems: string[] = [];
    const logger = { log: () => undefined, warn: (m: string) => void problems.push(m), error: (m: string) => void problems.push(m) };
    try {
      const store = new TimedProjectionStore(
        new TypeOrmProjectionStore(source, { projection: app.definition.name, schema, transactions: new TransactionContext(source) }),
      );
      const rebuild = new ProjectionRebuild(app.definition, store, log, { batchSize, logger });
      // What the feed's open `GET /feed/stream` connections would be sent meanwhile (one subscriber, counting).
      let announced = 0;
      const listening = app.changes.items$.subscribe(() => void announced++);
      const stop = startClock();
      const result = await rebuild.run().finally(() => listening.unsubscribe());
      const measurement = stop();
      if (problems.length > 0) throw new Error(`the rebuild warned: ${problems.slice(0, 3).join('; ')}`);
      if (result.entries !== n || result.position !== n)
        throw new Error(`rebuilt ${result.entries} entries up to ${result.position}, expected ${n}`);
      const [feed] = await db.query<{ questions: number; rows: number; answers: number; accepted: number; skipped: number }>(
        `SELECT count(*)::int AS rows, count(asked_at)::int AS questions, coalesce(sum(answer_count), 0)::int AS answers,
                count(accepted_answer_id)::int AS accepted, (SELECT count(*)::int FROM "${schema}".tidings_skipped) AS skipped
         FROM "${schema}".feed_items`,
      );
      const expected = history.expected(n);
      const actual = { questions: feed?.questions, answers: feed?.answers, accepted: feed?.accepted };
      if (JSON.stringify(actual) !== JSON.stringify(expected) || feed?.rows !== expected.questions || feed.skipped !== 0) {
        throw new Error(`the rebuilt feed holds ${JSON.stringify(feed)}, expected ${JSON.stringify(expected)} and nothing skipped`);
      }
      const share = Math.round((store.commitMs / measurement.elapsedMs) * 100);
      const note =
        `${thousands(store.commits)} commits of ${(store.events / Math.max(1, store.commits)).toFixed(store.commits > 100 ? 1 : 0)} events, ` +
        `${share}% of the time in commits, ${thousands(announced)} items announced to live feed streams`;
      return { measurement, note };
    } finally {
      await db.dropAdopted(...schemas);
    }
  },
});

const VARIANTS: readonly ReplayVariant[] = [
  {
    variant: 'raw-read',
    label: () => `raw amqplib read, offset 0, prefetch ${RAW_PREFETCH}, ack every ${RAW_ACK_EVERY} (ceiling)`,
    side: 'raw',
    entries: full,
    async run({ n, stream, rawConnection }) {
      const stop = startClock();
      const { count, last } = await rawRead(rawConnection, stream, n);
      const measurement = stop();
      if (count !== n || last !== n - 1) throw new Error(`raw read ${count} entries up to offset ${last}, expected ${n} up to ${n - 1}`);
      return { measurement };
    },
  },
  {
    variant: 'log-read',
    label: () => 'StreamEventLog.read(0) to the head, counting',
    side: 'tidings',
    entries: full,
    async run({ n, log }) {
      let count = 0;
      const stop = startClock();
      for await (const _entry of log.read(0)) count++;
      const measurement = stop();
      if (count !== n) throw new Error(`the log read ${count} entries, expected ${n}`);
      return { measurement };
    },
  },
  rebuildVariant('batched', BATCH_SIZE, () => `ProjectionRebuild of the feed, batchSize ${BATCH_SIZE}`, false),
  rebuildVariant('batched-preloaded', BATCH_SIZE, () => `same, the entries preloaded in memory (no broker)`, false, true),
  rebuildVariant(
    'per-event',
    1,
    (options) => `same, batchSize 1 (first ${thousands(Math.min(options.replayPerEventEntries, options.replayEntries))} entries)`,
    true,
  ),
];

/**
 * Replay throughput of the Q&A feed projection from the RabbitMQ event log: `replayEntries` events of a generated
 * Q&A history are published once (RabbitMqTransport with `eventLog`) into a stream of this run's own, bound to an
 * exchange of its own; then, on that same stream, the variants alternate: the stream read alone by hand-written
 * amqplib (the ceiling) and by the transport's StreamEventLog, and ProjectionRebuild of the feed (the app's
 * FeedProjection, a TypeOrmProjectionStore, a fresh copy each run) with batches of 1,000, the same from the entries
 * read into memory beforehand (the projection without the broker), and with batches of 1 (on the first
 * `replayPerEventEntries` entries). The stream, the exchange and every copy's schemas are deleted afterwards.
 */
export async function replayScenario({ broker, options, progress }: BenchContext): Promise<VariantResult[]> {
  const chosen = chosenOf(options, 'projection-replay', 'stream', VARIANTS);
  if (chosen.length === 0) return [];
  const app = await loadFeedApp();
  const stream = `${broker.prefix}.projection.log`;
  const exchange = `${broker.prefix}.projection.events`;
  broker.track(stream);
  broker.trackExchange(exchange);
  const transport = new RabbitMqTransport({
    url: RABBITMQ_URL,
    exchange,
    connectionName: 'tidings bench projection',
    logger: silentLogger,
    eventLog: { queue: stream },
  });
  const db = await BenchDatabase.open('projection');
  const rawConnection = await broker.connect('projection raw read');
  const results: VariantResult[] = [];
  try {
    await transport.start(); // declares the exchange and the stream bound to it
    const fullLog = transport.eventLog;
    if (!fullLog) throw new Error('the transport has no event log');
    const total = options.replayEntries;
    const history = qaHistory(app.events, total, 'bench');
    progress.step(`projection-replay: publishing ${thousands(total)} Q&A events into stream ${stream}`);
    const fill = startClock();
    for (let i = 0; i < total; i += PUBLISH_CHUNK) await transport.publish(history.envelopes.slice(i, i + PUBLISH_CHUNK));
    const filled = fill();
    const head = await fullLog.head();
    // The stream is new: the events are at offsets 0 … total − 1, the head marker just appended at `total`.
    if (head !== total + 1) throw new Error(`the stream's head is ${head} after ${total} events; expected ${total + 1}`);
    const bytes = history.envelopes.reduce((sum, e) => sum + Buffer.byteLength(JSON.stringify(e.data)), 0);
    progress.step(
      `projection-replay: published in ${(filled.elapsedMs / 1000).toFixed(1)} s; ${Math.round(bytes / total)} bytes of JSON data per event on average`,
    );
    const source = await db.dataSource(10, 'projection');
    let inMemory: PreloadedEventLog | undefined;
    if (chosen.some((v) => v.fromMemory)) {
      progress.step(`projection-replay: reading the stream into memory for the preloaded variant`);
      inMemory = await PreloadedEventLog.of(fullLog);
      if ((await inMemory.head()) !== total) throw new Error(`preloaded ${await inMemory.head()} of ${total} entries`);
    }
    const measured = new Map(chosen.map((v) => [v, { ...noRuns(), notes: [] as string[] }]));
    for (let run = -1; run < options.runs; run++) {
      for (const v of orderOfRun(chosen, run)) {
        const n = v.entries(options, run < 0);
        const what = `projection-replay ${v.variant} ${run < 0 ? 'warm-up' : `run ${run + 1}/${options.runs}`}`;
        const log = n === total ? fullLog : new PrefixEventLog(fullLog, n);
        const preloaded = async (): Promise<EventLog> => {
          if (!inMemory) throw new Error('nothing preloaded');
          return inMemory.prefix(n);
        };
        await db.checkpoint();
        const { measurement, note } = await withTimeout(
          what,
          600_000,
          v.run({ n, log, preloaded, stream, rawConnection, db, source, app, history }),
        );
        const runs = run >= 0 ? measured.get(v) : undefined;
        if (note) runs?.notes.push(note);
        progress.step(`${what}: ${record(runs, n, measurement, 'entry')}${note ? `, ${note}` : ''}`);
      }
    }
    for (const [v, runs] of measured)
      results.push({
        scenario: 'projection-replay',
        queueType: 'stream',
        variant: v.variant,
        label: v.label(options),
        side: v.side,
        messages: v.entries(options, false),
        ...runs,
      });
  } finally {
    await transport.stop();
    await rawConnection.close().catch(() => undefined);
    await broker.deleteQueues(stream).catch(() => undefined);
    await broker.deleteExchange(exchange).catch(() => undefined);
    await db.dispose();
  }
  return results;
}
