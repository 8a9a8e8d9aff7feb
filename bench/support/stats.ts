import { readFileSync } from 'node:fs';

/** Minimum, median and maximum of a few runs. */
export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return { min: sorted[0] as number, median, max: sorted[sorted.length - 1] as number };
}

/** The `p`-th percentile (0–100) of values sorted ascending, by the nearest-rank method. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('no values');
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Wall time and this process's CPU time (user + system) of one measured stretch. */
export interface Measurement {
  readonly elapsedMs: number;
  readonly cpuUs: number;
  /** Start and end on the monotonic clock of `process.hrtime` (µs), which `--cpu-prof` timestamps share. */
  readonly windowUs: readonly [number, number];
  /** How busy all the machine's CPUs were (0–1: broker, bench and anything else running), where /proc/stat exists. */
  readonly machineCpuBusy: number | undefined;
}

/** Busy and total CPU time of the whole machine so far (Linux /proc/stat, in clock ticks). */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
    const total = fields.reduce((sum, ticks) => sum + ticks, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** Starts measuring; call the result to stop. */
export function startClock(): () => Measurement {
  const started = performance.now();
  const startedUs = monotonicUs();
  const cpu = process.cpuUsage();
  const machine = machineTicks();
  return () => {
    const used = process.cpuUsage(cpu);
    const now = machineTicks();
    const machineCpuBusy =
      machine && now && now.total > machine.total ? (now.busy - machine.busy) / (now.total - machine.total) : undefined;
    return { elapsedMs: performance.now() - started, cpuUs: used.user + used.system, windowUs: [startedUs, monotonicUs()], machineCpuBusy };
  };
}

/** Messages per second over a duration measured with `performance.now()`. */
export const rate = (messages: number, elapsedMs: number): number => (messages * 1000) / elapsedMs;

/** `12,345` */
export const thousands = (value: number): string => Math.round(value).toLocaleString('en-US');

/** A plain-text table with left-aligned text columns and right-aligned number columns. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], rightAligned: readonly boolean[]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (rightAligned[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
