import { errorSummary } from '../errors/error-summary.js';
import type { TidingsLogger } from '../logging/tidings-logger.js';
import { RelayBackoff, type RelayBackoffOptions } from '../outbox/relay-backoff.js';
import type { EventLog } from '../transport/event-log.js';
import { BatchApplier } from './batch.applier.js';
import { LogBatchReader } from './log-batch.reader.js';
import { pause } from './pause.js';
import type { ProjectionDefinition } from './projection.definition.js';
import type { Checkpoint, ProjectionCopy, ProjectionStore } from './projection.store.js';

/** Options of a {@link ProjectionRunner}. */
export interface ProjectionRunnerOptions {
  /** Most log entries per transaction. @default 1000 */
  readonly batchSize?: number;
  /** Keep applying events as they are published (the live copy), or stop at the head (a rebuild). */
  readonly follow: boolean;
  readonly logger: TidingsLogger;
  /** Largest message body accepted. @default 1 MiB */
  readonly maxBytes?: number;
  /** Pauses after failures. @default 200 ms doubling to 15 s */
  readonly backoff?: RelayBackoffOptions;
  /** Called after each committed batch with the new checkpoint and the number of log entries it covered. */
  readonly onCommitted?: (checkpoint: Checkpoint, entries: number) => void;
}

export const DEFAULT_PROJECTION_BATCH_SIZE = 1000;

/**
 * Applies the event log to one copy of a projection's read model, batch by batch, each batch in one transaction
 * with the checkpoint. It starts from the copy's checkpoint, so a runner stopped or killed anywhere resumes where
 * the last commit left off. Failures (the broker, the database, a handler's transient error) are retried from the
 * checkpoint after a pause, until they pass or the runner is stopped. When the copy moves under it (a swap put
 * another copy live, or another runner advanced it), it starts again from the copy's checkpoint.
 */
export class ProjectionRunner<Tx> {
  private readonly applier: BatchApplier<Tx>;
  private readonly batchSize: number;
  private current: Checkpoint | undefined;
  private readonly waiters = new Set<{ position: number; resolve: () => void }>();

  constructor(
    private readonly definition: ProjectionDefinition<Tx>,
    private readonly store: ProjectionStore<Tx>,
    private readonly log: EventLog,
    private readonly copy: ProjectionCopy,
    private readonly options: ProjectionRunnerOptions,
  ) {
    this.batchSize = options.batchSize ?? DEFAULT_PROJECTION_BATCH_SIZE;
    this.applier = new BatchApplier(definition, copy, options.logger, options.maxBytes);
  }

  /** The copy's checkpoint as this runner last committed or read it. */
  get checkpoint(): Checkpoint | undefined {
    return this.current;
  }

  /** Resolves once the runner's checkpoint has reached `position` (every entry below it is applied). */
  reached(position: number): Promise<void> {
    if ((this.current?.position ?? -1) >= position) return Promise.resolve();
    return new Promise((resolve) => this.waiters.add({ position, resolve }));
  }

  /**
   * Runs until `signal` aborts or, without `follow`, until the copy has reached the head of the log as it was when
   * the runner last started reading. Resolves with the last checkpoint; never rejects.
   */
  async run(signal: AbortSignal): Promise<Checkpoint | undefined> {
    const backoff = new RelayBackoff(this.options.backoff);
    while (!signal.aborted) {
      try {
        this.advance(await this.store.open(this.copy, this.definition.createReadModel));
        if (await this.applyFromCheckpoint(signal)) return this.current;
        backoff.succeeded();
      } catch (error) {
        if (signal.aborted) break;
        const delay = backoff.failed();
        this.options.logger.warn(
          `Projection ${this.definition.name} (${this.copy} copy) failed at position ${this.current?.position ?? '?'}: ` +
            `${errorSummary(error)}; trying again from its checkpoint in ${delay} ms`,
        );
        await pause(delay, signal);
      }
    }
    return this.current;
  }

  /** `true` when done (end of a non-following read, or stopped); `false` when the copy moved and must be reopened. */
  private async applyFromCheckpoint(signal: AbortSignal): Promise<boolean> {
    let checkpoint = this.current!;
    const reader = new LogBatchReader(this.log, checkpoint.position, { follow: this.options.follow, capacity: 2 * this.batchSize, signal });
    try {
      for (;;) {
        const entries = await reader.next(this.batchSize);
        // Stopped: return at once rather than apply what was read ahead (the next run reads it again).
        if (entries.length === 0 || signal.aborted) return true;
        const next = await this.applier.apply(checkpoint, entries, (commit) => this.store.commit(this.copy, commit));
        if (!next) {
          this.options.logger.log(
            `Projection ${this.definition.name} (${this.copy} copy) moved under this runner; reading on from its checkpoint`,
          );
          return false;
        }
        checkpoint = next;
        this.advance(checkpoint);
        this.options.onCommitted?.(checkpoint, entries.length);
      }
    } finally {
      reader.close();
    }
  }

  private advance(checkpoint: Checkpoint): void {
    this.current = checkpoint;
    for (const waiter of this.waiters) {
      if (checkpoint.position < waiter.position) continue;
      this.waiters.delete(waiter);
      waiter.resolve();
    }
  }
}
