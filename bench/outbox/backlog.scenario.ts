import { withTimeout } from '../rabbitmq/broker.js';
import { EVENT_TYPE } from '../rabbitmq/payload.js';
import { noRuns, record, type BenchContext, type MemorySample, type VariantResult } from '../rabbitmq/scenario.js';
import { startClock, thousands } from '../support/stats.js';
import { fillBacklog } from './backlog-fill.js';
import { runRelayProcess, type BacklogRelayKind } from './backlog-relay.child.js';
import { atDrained, backlogRun, memorySample } from './backlog-report.js';
import { countingConsumer } from './counting-consumer.js';
import { BenchDatabase } from './database.js';
import { chosenOf, outboxQueueType } from './outbox.js';

interface BacklogVariant {
  readonly variant: BacklogRelayKind;
  readonly label: string;
  readonly side: 'raw' | 'tidings';
}

const VARIANTS: readonly BacklogVariant[] = [
  { variant: 'tidings', label: 'tidings relay, defaults (4 × 500), a process of its own', side: 'tidings' },
  { variant: 'raw-4x500', label: 'hand-written relay, 4 × 500, a process of its own', side: 'raw' },
];

/** A hang guard, not a limit: 2 ms per row is five times slower than any drain measured on the shared machine. */
const drainTimeoutMs = (rows: number): number => Math.max(120_000, rows * 2);

/**
 * Memory of a relay draining a large backlog (`backlogRows`, a million by default): the rows are written inside
 * PostgreSQL, then a relay in a child process drains them to a queue that a raw consumer of this process empties as
 * it goes (so the broker never holds the backlog). The child reports its RSS and heap every second; the figure that
 * matters is how far RSS grows after 10% drained: it must stay flat however many rows the relay has moved. One run per
 * variant (a million rows take minutes), Tidings' relay first, then the hand-written one on a backlog of the same size.
 * Every row must reach the consumer once, and the table must end empty.
 */
export async function backlogScenario({ broker, options, progress }: BenchContext): Promise<VariantResult[]> {
  const queueType = outboxQueueType(options);
  const chosen = chosenOf(options, 'outbox-backlog', queueType, VARIANTS);
  if (chosen.length === 0) return [];
  const rows = options.backlogRows;
  const db = await BenchDatabase.open('backlog');
  const results: VariantResult[] = [];
  try {
    for (const v of chosen) {
      const what = `outbox-backlog ${v.variant}`;
      const table = await db.createOutbox('backlog');
      const queue = broker.name('outbox-backlog');
      try {
        const filling = performance.now();
        await fillBacklog(db, table, rows, (written) => progress.step(`${what}: ${thousands(written)} of ${thousands(rows)} rows written`));
        progress.step(`${what}: backlog written at ${thousands((rows * 1000) / (performance.now() - filling))} rows/s`);
        await db.checkpoint();
        await broker.declareQueue(queue, queueType, EVENT_TYPE);
        const consumer = await countingConsumer(broker, queue, rows);
        const samples: MemorySample[] = [];
        let decile = 0;
        const stop = startClock();
        const done = await runRelayProcess(
          { relay: v.variant, table, exchange: broker.exchange, rows, sampleMs: options.smoke ? 100 : 1000 },
          (reported) => {
            const sample = memorySample(reported, rows);
            samples.push(sample);
            for (; decile <= 10 && atDrained([sample], rows, decile / 10); decile++)
              progress.step(
                `${what}: ${decile * 10}% drained at ${(sample.atMs / 1000).toFixed(1)} s, ${thousands(sample.rowsLeft)} left, ` +
                  `RSS ${sample.rssMb.toFixed(1)} MB, heap ${sample.heapUsedMb.toFixed(1)} MB`,
              );
          },
          drainTimeoutMs(rows),
        );
        const measured = { ...stop(), elapsedMs: done.elapsedMs, cpuUs: done.cpuUs };
        await withTimeout(`${what} consumer`, 60_000, consumer.reached);
        const { consumed, distinct } = await consumer.stop();
        await broker.awaitEmpty(queue);
        const left = await db.count(table.qualified);
        if (done.completed !== rows || consumed !== rows || distinct !== rows || left !== 0)
          throw new Error(
            `${what}: ${done.completed} rows completed, ${consumed} consumed (${distinct} distinct), ${left} left of ${rows}`,
          );
        const run = backlogRun(rows, samples);
        const runs = { ...noRuns(), backlog: [run], notes: [`${done.note}; ${samples.length} samples`] };
        progress.step(
          `${what}: ${record(runs, rows, measured, 'row')}; RSS growth after 10% drained ${run.rssGrowthMb.toFixed(1)} MB, ` +
            `heap ${run.heapGrowthMb.toFixed(1)} MB; ${done.note}`,
        );
        results.push({ scenario: 'outbox-backlog', queueType, variant: v.variant, label: v.label, side: v.side, messages: rows, ...runs });
      } finally {
        await broker.deleteQueues(queue);
        await db.dropTable(table.qualified);
      }
    }
  } finally {
    await db.dispose();
  }
  return results;
}
