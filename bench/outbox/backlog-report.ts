import type { BacklogRun, MemorySample, VariantResult } from '../rabbitmq/scenario.js';
import { table, thousands } from '../support/stats.js';
import type { BacklogRelaySample } from './backlog-relay.child.js';

const MB = 1024 * 1024;
const DECILES = Array.from({ length: 11 }, (_, i) => i / 10);
const oneDecimal = (value: number): number => Math.round(value * 10) / 10;

export const memorySample = (sample: BacklogRelaySample, rows: number): MemorySample => ({
  atMs: Math.round(sample.atMs),
  rowsLeft: rows - sample.completed,
  rssMb: oneDecimal(sample.rssBytes / MB),
  heapUsedMb: oneDecimal(sample.heapUsedBytes / MB),
});

/** The first sample taken once `fraction` of the rows were drained (the last one is taken with none left). */
export const atDrained = (samples: readonly MemorySample[], rows: number, fraction: number): MemorySample | undefined =>
  samples.find((s) => s.rowsLeft <= rows * (1 - fraction));

/** Least-squares slope of `y` over `x`, or undefined with fewer than 3 points or no spread in `x`. */
function slope(points: readonly { readonly x: number; readonly y: number }[]): number | undefined {
  if (points.length < 3) return undefined;
  const mx = points.reduce((sum, p) => sum + p.x, 0) / points.length;
  const my = points.reduce((sum, p) => sum + p.y, 0) / points.length;
  const sxx = points.reduce((sum, p) => sum + (p.x - mx) ** 2, 0);
  return sxx === 0 ? undefined : points.reduce((sum, p) => sum + (p.x - mx) * (p.y - my), 0) / sxx;
}

const peak = (samples: readonly MemorySample[], pick: (s: MemorySample) => number): number =>
  samples.reduce((max, s) => Math.max(max, pick(s)), 0);

/** The samples from the first at or past `from` drained up to `to` drained (through the end when `to` is 1). */
const between = (samples: readonly MemorySample[], rows: number, from: number, to: number): MemorySample[] => {
  const first = atDrained(samples, rows, from);
  const rest = first ? samples.slice(samples.indexOf(first)) : [];
  return rest.filter((s, i) => i === 0 || to === 1 || s.rowsLeft > rows * (1 - to));
};

/**
 * The drain's figures, from 10% drained on, once the relay's pools, buffers and JIT are warm: the peaks of the second
 * half against those of 10–50%, and the trend of RSS over the rows moved. A relay whose memory grows with the rows it
 * moved shows in both; one that only breathes with the garbage collector in neither.
 */
export function backlogRun(rows: number, samples: MemorySample[]): BacklogRun {
  const firstHalf = between(samples, rows, 0.1, 0.5);
  const secondHalf = between(samples, rows, 0.5, 1);
  if (firstHalf.length === 0 || secondHalf.length === 0)
    throw new Error(`no samples of the drain's second half (${samples.length} samples)`);
  const growth = (pick: (s: MemorySample) => number): number => oneDecimal(peak(secondHalf, pick) - peak(firstHalf, pick));
  const trend = slope(between(samples, rows, 0.1, 1).map((s) => ({ x: rows - s.rowsLeft, y: s.rssMb })));
  return {
    rows,
    samples,
    rssGrowthMb: growth((s) => s.rssMb),
    heapGrowthMb: growth((s) => s.heapUsedMb),
    ...(trend !== undefined && { rssMbPer100kRows: Math.round(trend * 100_000 * 100) / 100 }),
  };
}

const signed = (mb: number, digits = 1): string => `${mb >= 0 ? '+' : ''}${mb.toFixed(digits)}`;

/** The backlog tables: per variant its drain rate and memory growth, then the memory at every 10% drained side by side. */
export function backlogTables(results: readonly VariantResult[]): string {
  const drains = results.flatMap((r) => (r.backlog ?? []).map((run, i) => ({ r, run, i })));
  const summary = table(
    [
      'scenario',
      'queue',
      'variant',
      'rows',
      'drained rows/s',
      'relay CPU µs/row',
      'RSS at 10% MB',
      'peak RSS 10–50% MB',
      'peak RSS 50–100% MB',
      'RSS growth MB',
      'RSS MB per 100k rows',
      'heap growth MB',
    ],
    drains.map(({ r, run, i }) => [
      r.scenario,
      r.queueType,
      r.label,
      thousands(run.rows),
      thousands(r.msgsPerSecond[i] ?? 0),
      (r.cpuUsPerMessage[i] ?? 0).toFixed(1),
      (atDrained(run.samples, run.rows, 0.1)?.rssMb ?? 0).toFixed(1),
      peak(between(run.samples, run.rows, 0.1, 0.5), (s) => s.rssMb).toFixed(1),
      peak(between(run.samples, run.rows, 0.5, 1), (s) => s.rssMb).toFixed(1),
      signed(run.rssGrowthMb),
      run.rssMbPer100kRows === undefined ? '' : signed(run.rssMbPer100kRows, 2),
      signed(run.heapGrowthMb),
    ]),
    [false, false, false, true, true, true, true, true, true, true, true],
  );
  const header = ['drained', ...drains.flatMap(({ r }) => [`${r.variant}: rows left`, 's', 'RSS MB', 'heap MB'])];
  const timeline = table(
    header,
    DECILES.map((fraction) => [
      `${Math.round(fraction * 100)}%`,
      ...drains.flatMap(({ run }) => {
        const s = atDrained(run.samples, run.rows, fraction);
        return s ? [thousands(s.rowsLeft), (s.atMs / 1000).toFixed(1), s.rssMb.toFixed(1), s.heapUsedMb.toFixed(1)] : ['', '', '', ''];
      }),
    ]),
    header.map(() => true),
  );
  return `${summary}\n\nRelay process memory at every 10% of the backlog drained (first sample at or past it):\n${timeline}`;
}
