import { RelayBackoff } from '../outbox/relay-backoff.js';
import { ThroughputWindow } from '../outbox/throughput-window.js';
import type { TidingsLogger } from '../logging/tidings-logger.js';
import type { EventLog, LogEntry } from '../transport/event-log.js';
import { errorSummary } from '../errors/error-summary.js';
import { BatchApplier } from './batch.applier.js';
import { ProjectionRebuildAbortedError } from './projection-rebuild.error.js';
import type { ProjectionDefinition } from './projection.definition.js';
import { pause } from './pause.js';
import { DEFAULT_PROJECTION_BATCH_SIZE, ProjectionRunner } from './projection.runner.js';
import type { Checkpoint, ProjectionCommit, ProjectionStore } from './projection.store.js';
import type { RebuildProgress, RebuildResult } from './rebuild-progress.js';

/** Options of a {@link ProjectionRebuild}. */
export interface ProjectionRebuildOptions {
  /** Log entries per transaction while replaying. @default 1000 */
  readonly batchSize?: number;
  readonly logger: TidingsLogger;
  readonly maxBytes?: number;
  /** Called with the progress at most every `progressEveryMs`, and at each phase change. */
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** @default 500 */
  readonly progressEveryMs?: number;
  /** Called after each committed batch of the replay with the new copy's checkpoint and the entries it covered. */
  readonly onCommitted?: (checkpoint: Checkpoint, entries: number) => void;
}

/**
 * Rebuilds a projection's read model from the whole event log without stopping it: replays the log into a new
 * copy while the live copy keeps serving and following the log, and once the new copy has caught up, swaps it in
 * atomically (the last few events the live copy had beyond it are applied in the swap's transaction, so readers
 * never see the feed step back) and drops the old copy.
 *
 * The new copy has its own checkpoint, so a rebuild stopped or killed at any point is resumed by running it again.
 * Only one rebuild of a projection runs at a time (the store's lock).
 */
export class ProjectionRebuild<Tx> {
  private readonly batchSize: number;
  private readonly rate = new ThroughputWindow(5_000);

  constructor(
    private readonly definition: ProjectionDefinition<Tx>,
    private readonly store: ProjectionStore<Tx>,
    private readonly log: EventLog,
    private readonly options: ProjectionRebuildOptions,
  ) {
    this.batchSize = options.batchSize ?? DEFAULT_PROJECTION_BATCH_SIZE;
  }

  /** Runs the rebuild to the swap; rejects with `ProjectionRebuildAbortedError` if `signal` aborts first. */
  async run(signal: AbortSignal = new AbortController().signal): Promise<RebuildResult> {
    const { name } = this.definition;
    const release = await this.store.lockRebuild();
    const started = Date.now();
    try {
      await this.store.dropRetired();
      const opened = await this.store.open('rebuild', this.definition.createReadModel);
      const resumedFrom = opened.position;
      if (resumedFrom > 0) this.options.logger.log(`Projection ${name}: resuming the rebuild at position ${resumedFrom}`);
      let head = await this.log.head();
      let position = resumedFrom;
      let entries = 0;
      let lastReport = 0;
      const report = (phase: RebuildProgress['phase'], force = false): void => {
        const now = Date.now();
        if (!this.options.onProgress || (!force && now - lastReport < (this.options.progressEveryMs ?? 500))) return;
        lastReport = now;
        const eventsPerSecond = this.rate.perSecond();
        const left = Math.max(0, head - position);
        this.options.onProgress({
          projection: name,
          phase,
          resumedFrom,
          position,
          head: Math.max(head, position),
          eventsPerSecond,
          etaSeconds: eventsPerSecond > 0 ? left / eventsPerSecond : undefined,
        });
      };
      report('replaying', true);
      const swapBackoff = new RelayBackoff();
      for (;;) {
        const runner = new ProjectionRunner(this.definition, this.store, this.log, 'rebuild', {
          follow: false,
          batchSize: this.batchSize,
          logger: this.options.logger,
          ...(this.options.maxBytes !== undefined && { maxBytes: this.options.maxBytes }),
          onCommitted: (checkpoint, count) => {
            this.options.onCommitted?.(checkpoint, count);
            position = checkpoint.position;
            entries += count;
            this.rate.add(count);
            report('replaying');
          },
        });
        const reached = await runner.run(signal);
        if (signal.aborted) throw new ProjectionRebuildAbortedError(name, reached?.position ?? position);
        const live = await this.store.checkpoint('live');
        // Swap only when little is left: the swap holds the live copy's runner while it applies the rest.
        if (!live || live.position - position <= this.batchSize) {
          report('swapping', true);
          try {
            await this.store.swap((liveCheckpoint, rebuild, commit) => this.catchUp(liveCheckpoint, rebuild, commit));
            break;
          } catch (error) {
            const delay = swapBackoff.failed();
            this.options.logger.warn(`Projection ${name}: the swap failed (${errorSummary(error)}); catching up again in ${delay} ms`);
            await pause(delay, signal);
          }
        }
        head = await this.log.head();
      }
      await this.store.dropRetired();
      const final = (await this.store.checkpoint('live'))?.position ?? position;
      position = final;
      report('done', true);
      this.options.logger.log(`Projection ${name}: rebuilt and live at position ${final}`);
      return { projection: name, position: final, resumedFrom, entries, seconds: (Date.now() - started) / 1000 };
    } finally {
      await release();
    }
  }

  /** Inside the swap's transaction: applies to the new copy the entries the live copy has beyond it, in one commit. */
  private async catchUp(
    live: Checkpoint | undefined,
    rebuild: Checkpoint,
    commit: (commit: ProjectionCommit<Tx>) => Promise<void>,
  ): Promise<void> {
    if (!live || live.position <= rebuild.position) return;
    const entries: LogEntry[] = [];
    const stop = new AbortController();
    for await (const entry of this.log.read(rebuild.position, { signal: stop.signal })) {
      if (entry.position >= live.position) break;
      entries.push(entry);
    }
    stop.abort();
    // No fallback to one entry per transaction here, and no skipping: a commit that failed inside the swap's
    // transaction is not undone (there is no savepoint), so committing again in it would find the batch's events
    // recorded as applied and pass over them, losing them from the copy going live. The applier falls back and skips
    // on failure, so every commit after the first failure fails the same way: the swap fails and rolls back, and the
    // replay, which can skip a bad event, runs again first.
    let failed: { readonly error: unknown } | undefined;
    const applier = new BatchApplier(this.definition, 'rebuild', this.options.logger, this.options.maxBytes);
    await applier.apply(
      rebuild,
      entries,
      async (c) => {
        if (failed) throw failed.error;
        try {
          await commit(c);
          return true;
        } catch (error) {
          failed = { error };
          throw error;
        }
      },
      live.position,
    );
  }
}
