/**
 * The RabbitMQ transport benchmark: `npm run bench` (full, several minutes) or `npm run bench:smoke` (every
 * scenario once on a few messages). Prints a table on stdout, progress on stderr, and writes the figures with
 * the machine they were measured on to bench/results/<timestamp>.json. Never part of `npm test` or CI.
 *
 * Options: --smoke, --runs N, --messages N (publish and consume), --queue quorum|classic, --only TEXT
 * (variants whose id, e.g. `consume/quorum/tidings`, contains TEXT).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { machineInfo } from './support/machine.js';
import { Progress } from './support/progress.js';
import { spreadOf, table, thousands } from './support/stats.js';
import { BenchBroker, type QueueType } from './rabbitmq/broker.js';
import { consumeScenario } from './rabbitmq/consume.scenario.js';
import { publishScenario } from './rabbitmq/publish.scenario.js';
import { variantId, type BenchContext, type BenchOptions, type VariantResult } from './rabbitmq/scenario.js';

function optionsFrom(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      smoke: { type: 'boolean', default: false },
      runs: { type: 'string' },
      messages: { type: 'string' },
      queue: { type: 'string' },
      only: { type: 'string' },
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
  };
}

interface Row extends VariantResult {
  readonly min: number;
  readonly median: number;
  readonly max: number;
  /** Median over the median of the `raw` variant of the same scenario and queue type. */
  readonly ratioToRaw: number | undefined;
  readonly medianCpuUsPerMessage: number;
  readonly medianMachineCpuBusy: number | undefined;
}

function rowsOf(results: readonly VariantResult[]): Row[] {
  return results.map((result) => {
    const spread = spreadOf(result.msgsPerSecond);
    const raw = results.find((r) => r.scenario === result.scenario && r.queueType === result.queueType && r.variant === 'raw');
    const ratioToRaw = raw ? spread.median / spreadOf(raw.msgsPerSecond).median : undefined;
    const medianMachineCpuBusy = result.machineCpuBusy.length > 0 ? spreadOf(result.machineCpuBusy).median : undefined;
    return { ...result, ...spread, ratioToRaw, medianCpuUsPerMessage: spreadOf(result.cpuUsPerMessage).median, medianMachineCpuBusy };
  });
}

async function main(): Promise<void> {
  const options = optionsFrom(process.argv.slice(2));
  const progress = new Progress();
  const broker = await BenchBroker.open();
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    progress.step('interrupted: deleting the bench queues and exchange');
    void broker.cleanup().finally(() => process.exit(130));
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
  } finally {
    if (!interrupted) await broker.cleanup();
  }
  const rows = rowsOf(results);
  const ratio = (r: Row): string => (r.ratioToRaw === undefined ? '' : `${r.ratioToRaw.toFixed(2)}×`);
  console.log(
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
        'client CPU µs/msg',
        'machine CPU busy',
      ],
      rows.map((r) => [
        r.scenario,
        r.queueType,
        r.label,
        thousands(r.messages),
        String(r.msgsPerSecond.length),
        thousands(r.min),
        thousands(r.median),
        thousands(r.max),
        ratio(r),
        r.medianCpuUsPerMessage.toFixed(1),
        r.medianMachineCpuBusy === undefined ? '' : `${Math.round(r.medianMachineCpuBusy * 100)}%`,
      ]),
      [false, false, false, true, true, true, true, true, true, true, true],
    ),
  );
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
    machine: { ...machine, loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100) },
    results: rows.map((r) => ({ id: variantId(r), ...r })),
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  progress.step(`results written to ${file.pathname}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
