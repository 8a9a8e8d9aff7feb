import os from 'node:os';
import type { Progress } from '../support/progress.js';
import { rate, thousands, type Measurement } from '../support/stats.js';
import type { BenchBroker, QueueType } from './broker.js';

/** What the command line chose. */
export interface BenchOptions {
  readonly smoke: boolean;
  readonly runs: number;
  readonly publishMessages: number;
  readonly consumeMessages: number;
  /** Messages of the unrecorded first round of every variant (JIT, connections, caches). */
  readonly warmupMessages: number;
  readonly queueTypes: readonly QueueType[];
  /** Only variants whose `scenario/queueType/variant` id contains this text (or one of its comma-separated parts). */
  readonly only: string | undefined;
  /** Outbox rows each measured relay run drains (pre-inserted before the clock starts). */
  readonly relayRows: number;
  /** Outbox rows of the unrecorded warm-up round of every relay variant. */
  readonly relayWarmupRows: number;
  /** Transactions each measured producer run commits (by 8 concurrent clients). */
  readonly producerTransactions: number;
  readonly producerWarmupTransactions: number;
  /** The rates (events per second, one per transaction) the latency scenario's producer commits at, each in runs of its own. */
  readonly latencyRates: readonly number[];
  /** Seconds each measured latency run produces for (its warm-up: {@link latencyWarmupSeconds}). */
  readonly latencySeconds: number;
  readonly latencyWarmupSeconds: number;
  /** Events in the projection-replay scenario's stream: what the raw read, the log read and the batched rebuild replay. */
  readonly replayEntries: number;
  /** Entries the one-transaction-per-event rebuild replays (the first ones of the same stream). */
  readonly replayPerEventEntries: number;
  /** Entries of the unrecorded warm-up round of each projection-replay variant (per-event: a tenth of them). */
  readonly replayWarmupEntries: number;
  /** Outbox rows the backlog scenario writes before its relay drains them (one run per variant: it measures memory over time). */
  readonly backlogRows: number;
}

export interface BenchContext {
  readonly broker: BenchBroker;
  readonly options: BenchOptions;
  readonly progress: Progress;
}

/** The scenarios of the RabbitMQ transport (`publish`, `consume`), of the outbox, and of projections. */
export type ScenarioName =
  'publish' | 'consume' | 'consume-inbox' | 'outbox-relay' | 'outbox-produce' | 'outbox-latency' | 'outbox-backlog' | 'projection-replay';

/** Commit-to-handler latencies of one run, in milliseconds. */
export interface LatencyRun {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  /** Events measured (every event committed in the run). */
  readonly events: number;
  /** The rate the producer achieved (below the target when the database could not commit that fast). */
  readonly committedPerSecond: number;
}

/** The relay process's memory at one moment of a backlog drain. */
export interface MemorySample {
  /** Since the relay started. */
  readonly atMs: number;
  readonly rowsLeft: number;
  readonly rssMb: number;
  readonly heapUsedMb: number;
}

/** One drain of a backlog: its samples (about one a second) and what they say about growth. */
export interface BacklogRun {
  readonly rows: number;
  readonly samples: MemorySample[];
  /**
   * The highest RSS once half the rows were drained minus the highest from 10% to half drained: peaks against peaks,
   * since the garbage collector's sawtooth moves single samples by tens of MB. A leak shows as growth.
   */
  readonly rssGrowthMb: number;
  readonly heapGrowthMb: number;
  /** The least-squares slope of RSS over the rows drained, from 10% drained on, in MB per 100,000 rows (3 samples or more). */
  readonly rssMbPer100kRows?: number;
}

/** Measured throughputs of one variant, one per run. */
export interface VariantResult {
  readonly scenario: ScenarioName;
  /** The queue type the messages went to or came from; `none` for scenarios without a broker (the outbox producer). */
  readonly queueType: QueueType | 'stream' | 'none';
  readonly variant: string;
  readonly label: string;
  /** `peer`: another library doing the same work (bench/peers/), run in a process of its own. */
  readonly side: 'raw' | 'tidings' | 'peer';
  readonly messages: number;
  readonly msgsPerSecond: number[];
  /** CPU time of the bench process (client side only) per message, in microseconds, one per run. */
  readonly cpuUsPerMessage: number[];
  /** When each run was measured (see {@link Measurement.windowUs}), to profile only the measured stretches. */
  readonly windowsUs: (readonly [number, number])[];
  /** The machine's 1-minute load average after each run: other work on a shared machine shows here. */
  readonly loadAverages: number[];
  /** How busy all CPUs of the machine were during each run (0–1), when known. */
  readonly machineCpuBusy: number[];
  /** Latency scenarios only: the latencies of each run (`msgsPerSecond` is then the rate achieved, commit to last handler). */
  readonly latencyMs?: LatencyRun[];
  /** Latency scenarios only: the events per second the producer was asked to commit. */
  readonly targetRate?: number;
  /**
   * The variant of the same scenario and queue type that does the same work by hand (e.g. the inbox's transaction per
   * message with raw amqplib and pg), when that is not `raw`: the table shows the median's ratio to it too.
   */
  readonly reference?: string;
  /** Backlog scenario only: the relay process's memory while it drained, one per run. */
  readonly backlog?: BacklogRun[];
  /** What a run observed besides its figures (e.g. how many claims a relay made), one per run, where known. */
  readonly notes?: string[];
}

/** The measured runs of one variant. */
export type Runs = Pick<VariantResult, 'msgsPerSecond' | 'cpuUsPerMessage' | 'windowsUs' | 'loadAverages' | 'machineCpuBusy'>;

export const noRuns = (): Runs => ({ msgsPerSecond: [], cpuUsPerMessage: [], windowsUs: [], loadAverages: [], machineCpuBusy: [] });

/** Adds one run of `n` messages (unless it was a warm-up) and says how it went (per `unit`: msg, row, commit). */
export function record(runs: Runs | undefined, n: number, measurement: Measurement, unit = 'msg'): string {
  const perSecond = rate(n, measurement.elapsedMs);
  const cpu = measurement.cpuUs / n;
  runs?.msgsPerSecond.push(perSecond);
  runs?.cpuUsPerMessage.push(cpu);
  runs?.windowsUs.push(measurement.windowUs);
  const load = Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
  runs?.loadAverages.push(load);
  const busy = measurement.machineCpuBusy;
  if (busy !== undefined) runs?.machineCpuBusy.push(busy);
  const machine = busy === undefined ? '' : `, machine CPU ${Math.round(busy * 100)}% busy`;
  return `${thousands(perSecond)} ${unit}/s, client CPU ${cpu.toFixed(1)} µs/${unit}${machine}, load ${load}`;
}

export const variantId = (r: Pick<VariantResult, 'scenario' | 'queueType' | 'variant'>): string =>
  `${r.scenario}/${r.queueType}/${r.variant}`;

/**
 * Whether `--only` chooses the variant of `id`: no `--only`, or `id` contains one of its comma-separated parts; a part
 * ending in `$` must end `id` (`consume-inbox/quorum/raw$` is raw consume alone, not every hand-written variant).
 */
export const chosenByOnly = (only: string | undefined, id: string): boolean =>
  only === undefined ||
  only.split(',').some((raw) => {
    const part = raw.trim();
    if (part.endsWith('$')) return part.length > 1 && id.endsWith(part.slice(0, -1));
    return part !== '' && id.includes(part);
  });

/** Run `r` goes through the variants forwards when even, backwards when odd, so no variant always goes first. */
export const orderOfRun = <T>(items: readonly T[], run: number): T[] => (run % 2 === 0 ? [...items] : [...items].reverse());
