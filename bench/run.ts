/**
 * The RabbitMQ transport, outbox and projection replay benchmark: `npm run bench` (full, several minutes) or `npm run bench:smoke`
 * (every scenario once on a few messages). `--only consume-inbox` runs the idempotent consumers (inbox) alone. Prints tables on stdout, progress on stderr, and writes the figures with
 * the machine they were measured on to bench/results/<timestamp>.json. Never part of `npm test` or CI.
 *
 * Options: --smoke, --runs N, --messages N (publish and consume), --queue quorum|classic, --only TEXT[,TEXT…]
 * (variants whose id, e.g. `consume/quorum/tidings` or `outbox-relay/quorum/tidings`, contains one TEXT; a TEXT ending
 * in `$` must end the id), and for the
 * outbox: --rows N (relay), --transactions N (producer), --rate N[,N…] (latency: events/s, each rate in runs of its own,
 * default 100,500,2000; ids like `outbox-latency/quorum/tidings@2000`) and --seconds N (latency), --backlog N (rows the
 * relay drains in `outbox-backlog`, default 1,000,000, one run per variant); for projection replay
 * (`--only projection-replay`): --entries N (events in the stream) and --per-event N (entries of the batchSize 1 rebuild).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { machineInfo } from './support/machine.js';
import { Progress } from './support/progress.js';
import { spreadOf, table, thousands } from './support/stats.js';
import { BenchDatabase, postgresVersion } from './outbox/database.js';
import { backlogTables } from './outbox/backlog-report.js';
import { backlogScenario } from './outbox/backlog.scenario.js';
import { latencyScenario } from './outbox/latency.scenario.js';
import { producerScenario } from './outbox/producer.scenario.js';
import { relayScenario } from './outbox/relay.scenario.js';
import { BenchBroker, type QueueType } from './rabbitmq/broker.js';
import { consumeScenario } from './rabbitmq/consume.scenario.js';
import { consumeInboxScenario } from './inbox/consume-inbox.scenario.js';
import { replayScenario } from './projection/replay.scenario.js';
import { publishScenario } from './rabbitmq/publish.scenario.js';
import { variantId, type BenchContext, type BenchOptions, type LatencyRun, type VariantResult } from './rabbitmq/scenario.js';

function optionsFrom(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      smoke: { type: 'boolean', default: false },
      runs: { type: 'string' },
      messages: { type: 'string' },
      queue: { type: 'string' },
      only: { type: 'string' },
      rows: { type: 'string' },
      transactions: { type: 'string' },
      rate: { type: 'string' },
      seconds: { type: 'string' },
      entries: { type: 'string' },
      'per-event': { type: 'string' },
      backlog: { type: 'string' },
    },
  });
  const count = (text: string | undefined, fallback: number): number => {
    const value = text === undefined ? fallback : Number(text);
    if (!Number.isInteger(value) || value < 1) throw new Error(`expected a whole number from 1, got ${text}`);
    return value;
  };
  const queue = values.queue;
  if (queue !== undefined && queue !== 'quorum' && queue !== 'classic') throw new Error(`--queue must be quorum or classic, got ${queue}`);
  const smoke = values.smoke;
  return {
    smoke,
    runs: count(values.runs, smoke ? 1 : 3),
    publishMessages: count(values.messages, smoke ? 500 : 30_000),
    consumeMessages: count(values.messages, smoke ? 500 : 50_000),
    warmupMessages: smoke ? 100 : 3_000,
    queueTypes: queue ? [queue as QueueType] : ['quorum', 'classic'],
    only: values.only,
    relayRows: count(values.rows, smoke ? 300 : 50_000),
    relayWarmupRows: smoke ? 100 : 5_000,
    producerTransactions: count(values.transactions, smoke ? 200 : 20_000),
    producerWarmupTransactions: smoke ? 50 : 2_000,
    latencyRates: (values.rate ?? '100,500,2000').split(',').map((rate) => count(rate.trim(), 0)),
    latencySeconds: count(values.seconds, smoke ? 1 : 10),
    latencyWarmupSeconds: smoke ? 0.2 : 2,
    replayEntries: count(values.entries, smoke ? 300 : 50_000),
    replayPerEventEntries: count(values['per-event'], smoke ? 100 : 5_000),
    replayWarmupEntries: smoke ? 100 : 5_000,
    backlogRows: count(values.backlog, smoke ? 2_000 : 1_000_000),
  };
}

interface Row extends VariantResult {
  readonly min: number;
  readonly median: number;
  readonly max: number;
  /** Median over the median of the `raw` variant (projection replay: `raw-read`) of the same scenario and queue type. */
  readonly ratioToRaw: number | undefined;
  /** Outbox relay only: median over the median of the naive hand-written relay (`raw-naive`). */
  readonly ratioToNaive: number | undefined;
  /** Median over the median of the variant doing the same work by hand ({@link VariantResult.reference}), if it has one. */
  readonly ratioToReference: number | undefined;
  readonly medianCpuUsPerMessage: number;
  readonly medianMachineCpuBusy: number | undefined;
}

function rowsOf(results: readonly VariantResult[]): Row[] {
  return results.map((result) => {
    const spread = spreadOf(result.msgsPerSecond);
    const ratioTo = (variant: string): number | undefined => {
      const reference = results.find((r) => r.scenario === result.scenario && r.queueType === result.queueType && r.variant === variant);
      return reference && result.scenario !== 'outbox-latency' ? spread.median / spreadOf(reference.msgsPerSecond).median : undefined;
    };
    const medianMachineCpuBusy = result.machineCpuBusy.length > 0 ? spreadOf(result.machineCpuBusy).median : undefined;
    return {
      ...result,
      ...spread,
      ratioToRaw: ratioTo(result.scenario === 'projection-replay' ? 'raw-read' : 'raw'),
      ratioToNaive: result.scenario === 'outbox-relay' ? ratioTo('raw-naive') : undefined,
      ratioToReference: result.reference === undefined ? undefined : ratioTo(result.reference),
      medianCpuUsPerMessage: spreadOf(result.cpuUsPerMessage).median,
      medianMachineCpuBusy,
    };
  });
}

const ratio = (value: number | undefined): string => (value === undefined ? '' : `${value.toFixed(2)}×`);
const busy = (r: Row): string => (r.medianMachineCpuBusy === undefined ? '' : `${Math.round(r.medianMachineCpuBusy * 100)}%`);

/** The cells the throughput tables share: what ran, how often, its rates and its ratio to raw. */
const rateCells = (r: Row): string[] => [
  r.scenario,
  r.queueType,
  r.label,
  thousands(r.messages),
  String(r.msgsPerSecond.length),
  thousands(r.min),
  thousands(r.median),
  thousands(r.max),
  ratio(r.ratioToRaw),
];

/** The tables on stdout: RabbitMQ transport, outbox throughput, outbox latency (each only if it has rows). */
function printTables(rows: readonly Row[]): void {
  const transport = rows.filter((r) => r.scenario === 'publish' || r.scenario === 'consume' || r.scenario === 'consume-inbox');
  const throughput = rows.filter((r) => r.scenario === 'outbox-relay' || r.scenario === 'outbox-produce');
  const latency = rows.filter((r) => r.scenario === 'outbox-latency');
  const replay = rows.filter((r) => r.scenario === 'projection-replay');
  const backlog = rows.filter((r) => r.scenario === 'outbox-backlog');
  const tables: string[] = [];
  if (transport.length > 0)
    tables.push(
      table(
        [
          'scenario',
          'queue',
          'variant',
          'messages',
          'runs',
          'min msg/s',
          'median msg/s',
          'max msg/s',
          'median / raw',
          'median / same work by hand',
          'client CPU µs/msg',
          'machine CPU busy',
        ],
        transport.map((r) => [...rateCells(r), ratio(r.ratioToReference), r.medianCpuUsPerMessage.toFixed(1), busy(r)]),
        [false, false, false, true, true, true, true, true, true, true, true, true],
      ),
    );
  if (throughput.length > 0)
    tables.push(
      table(
        [
          'scenario',
          'queue',
          'variant',
          'rows / txns',
          'runs',
          'min /s',
          'median /s',
          'max /s',
          'median / raw',
          'median / naive',
          'client CPU µs/row',
          'machine CPU busy',
        ],
        throughput.map((r) => [...rateCells(r), ratio(r.ratioToNaive), r.medianCpuUsPerMessage.toFixed(1), busy(r)]),
        [false, false, false, true, true, true, true, true, true, true, true, true],
      ),
    );
  if (latency.length > 0) {
    const ms = (value: number): string => value.toFixed(2);
    const of = (r: Row, pick: (l: LatencyRun) => number): number[] => (r.latencyMs ?? []).map(pick);
    const p99Of = (r: Row): number => spreadOf(of(r, (l) => l.p99)).median;
    const rawAt = (r: Row): Row | undefined => latency.find((o) => o.side === 'raw' && o.targetRate === r.targetRate);
    tables.push(
      table(
        [
          'scenario',
          'queue',
          'variant',
          'rate /s',
          'events',
          'runs',
          'committed /s',
          'delivered /s',
          'p50 ms',
          'p95 ms',
          'p99 ms',
          'p99 / raw',
          'p99 ms min–max',
          'max ms',
          'client CPU µs/event',
          'machine CPU busy',
        ],
        latency.map((r) => {
          const p99 = spreadOf(of(r, (l) => l.p99));
          const raw = rawAt(r);
          // Delivered is first commit to last handler call: below the target when the producer or the pipeline could not
          // keep the rate (committed /s tells which); the 5% leaves room for the last event's latency.
          const behind = r.targetRate !== undefined && r.median < 0.95 * r.targetRate ? ' (behind)' : '';
          return [
            r.scenario,
            r.queueType,
            r.label,
            thousands(r.targetRate ?? 0),
            thousands(r.messages),
            String(r.msgsPerSecond.length),
            thousands(spreadOf(of(r, (l) => l.committedPerSecond)).median),
            `${thousands(r.median)}${behind}`,
            ms(spreadOf(of(r, (l) => l.p50)).median),
            ms(spreadOf(of(r, (l) => l.p95)).median),
            ms(p99.median),
            raw ? ratio(p99.median / p99Of(raw)) : '',
            `${ms(p99.min)}–${ms(p99.max)}`,
            ms(Math.max(...of(r, (l) => l.max))),
            r.medianCpuUsPerMessage.toFixed(1),
            busy(r),
          ];
        }),
        [false, false, false, true, true, true, true, true, true, true, true, true, true, true, true, true],
      ),
    );
  }
  if (backlog.length > 0) tables.push(backlogTables(backlog));
  if (replay.length > 0) tables.push(replayTable(replay));
  console.log(tables.join('\n\n'));
}

/** Projection replay: entries per second, the ratios the issue sets targets for, and whether they are met. */
function replayTable(rows: readonly Row[]): string {
  const lines = [
    table(
      [
        'scenario',
        'log',
        'variant',
        'entries',
        'runs',
        'min entries/s',
        'median entries/s',
        'max entries/s',
        'median / raw-read',
        'client CPU µs/entry',
        'machine CPU busy',
      ],
      rows.map((r) => [...rateCells(r), r.medianCpuUsPerMessage.toFixed(1), busy(r)]),
      [false, false, false, true, true, true, true, true, true, true, true],
    ),
  ];
  const median = (variant: string): number | undefined => rows.find((r) => r.variant === variant)?.median;
  const [raw, batched, perEvent] = [median('raw-read'), median('batched'), median('per-event')];
  if (batched !== undefined) {
    const verdict = (met: boolean): string => (met ? 'met' : 'NOT met');
    lines.push(
      '',
      `batched: ${thousands(batched)} entries/s (target ≥ 20,000: ${verdict(batched >= 20_000)})`,
      ...(perEvent !== undefined
        ? [`batched / per-event: ${(batched / perEvent).toFixed(1)}× (target ≥ 10×: ${verdict(batched / perEvent >= 10)})`]
        : []),
      ...(raw !== undefined ? [`batched / raw-read: ${(batched / raw).toFixed(2)}×`] : []),
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const options = optionsFrom(process.argv.slice(2));
  const progress = new Progress();
  const broker = await BenchBroker.open();
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    progress.step('interrupted: deleting the bench queues, exchange and database schemas');
    void Promise.allSettled([broker.cleanup(), BenchDatabase.disposeAll()]).finally(() => process.exit(130));
  });
  const machine = machineInfo(broker.serverProperties);
  const startedAt = new Date();
  progress.step(
    `${options.smoke ? 'smoke' : 'full'} bench on ${machine.cpuCount}× ${machine.cpuModel}, node ${machine.node}, ` +
      `RabbitMQ ${machine.rabbitmq}, amqplib ${machine.amqplib}; exchange ${broker.exchange}`,
  );
  const context: BenchContext = { broker, options, progress };
  const results: VariantResult[] = [];
  try {
    results.push(...(await publishScenario(context)));
    results.push(...(await consumeScenario(context)));
    results.push(...(await consumeInboxScenario(context)));
    results.push(...(await relayScenario(context)));
    results.push(...(await producerScenario(context)));
    results.push(...(await latencyScenario(context)));
    results.push(...(await backlogScenario(context)));
    results.push(...(await replayScenario(context)));
  } finally {
    if (!interrupted) await broker.cleanup();
  }
  const rows = rowsOf(results);
  printTables(rows);
  const postgresql = rows.some(
    (r) => r.scenario.startsWith('outbox') || r.scenario === 'projection-replay' || r.scenario === 'consume-inbox',
  )
    ? await postgresVersion()
    : undefined;
  const finishedAt = new Date();
  const file = new URL(
    `results/${startedAt.toISOString().replace(/[:.]/g, '-')}${options.smoke ? '-smoke' : ''}.json`,
    new URL('../', import.meta.url),
  );
  mkdirSync(new URL('.', file), { recursive: true });
  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    options,
    machine: {
      ...machine,
      ...(postgresql !== undefined && { postgresql }),
      loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100),
    },
    results: rows.map((r) => ({ id: variantId(r), ...r })),
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  progress.step(`results written to ${file.pathname}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
