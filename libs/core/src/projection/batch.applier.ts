import { errorSummary } from '../errors/error-summary.js';
import type { TidingsLogger } from '../logging/tidings-logger.js';
import type { LogEntry } from '../transport/event-log.js';
import { LogEntryResolver, skippedEntry, type ResolvedEntry } from './log-entry.resolver.js';
import type { ProjectedEvent } from './projected-event.js';
import type { ProjectionDefinition, ProjectionHandler } from './projection.definition.js';
import type { Checkpoint, ProjectionCommit, ProjectionCopy } from './projection.store.js';

/** Commits one batch in the store's transaction; `false` when the copy was not at the batch's checkpoint. */
export type CommitFn<Tx> = (commit: ProjectionCommit<Tx>) => Promise<boolean>;

/**
 * Applies a batch of log entries to a copy in one transaction, with the checkpoint. If the batch fails, it is
 * applied again one entry per transaction, so that one bad event does not hold back the others: an event whose
 * handler throws an error the projection's classifier calls deterministic is skipped and recorded; any other
 * failure propagates (the runner backs off and tries again from the checkpoint).
 */
export class BatchApplier<Tx> {
  private readonly resolver: LogEntryResolver<Tx>;

  constructor(
    private readonly definition: ProjectionDefinition<Tx>,
    private readonly copy: ProjectionCopy,
    private readonly logger: TidingsLogger,
    maxBytes?: number,
  ) {
    this.resolver = new LogEntryResolver(definition.name, definition.handlers, maxBytes);
  }

  /** Applies `entries` from `from`; the new checkpoint (at `to`, by default one past the last entry), or `undefined` if the copy moved. */
  async apply(from: Checkpoint, entries: readonly LogEntry[], commit: CommitFn<Tx>, to?: number): Promise<Checkpoint | undefined> {
    const last = entries[entries.length - 1];
    if (!last) return from;
    const end = to ?? last.position + 1;
    const resolved: ResolvedEntry<Tx>[] = [];
    for (const entry of entries) resolved.push(await this.resolver.resolve(entry));
    try {
      return (await this.commitResolved(from, end, resolved, commit)) ? { copyId: from.copyId, position: end } : undefined;
    } catch (error) {
      if (resolved.filter((r) => r.kind === 'event').length <= 1) return this.applyOne(from, end, resolved, commit, error);
      this.logger.warn(
        `Projection ${this.definition.name}: a batch of ${entries.length} entries from position ${from.position} failed ` +
          `(${errorSummary(error)}); applying it one entry at a time`,
      );
    }
    let checkpoint = from;
    for (const [index, entry] of resolved.entries()) {
      const next = resolved[index + 1];
      const entryEnd = next ? positionOf(next) : end;
      const moved = await this.applyOne(checkpoint, entryEnd, [entry], commit);
      if (!moved) return undefined;
      checkpoint = moved;
    }
    return checkpoint;
  }

  /** One transaction for one entry (and the ignored ones around it): a deterministic handler failure skips it. */
  private async applyOne(
    from: Checkpoint,
    to: number,
    resolved: readonly ResolvedEntry<Tx>[],
    commit: CommitFn<Tx>,
    firstError?: unknown,
  ): Promise<Checkpoint | undefined> {
    let error = firstError;
    if (error === undefined) {
      try {
        return (await this.commitResolved(from, to, resolved, commit)) ? { copyId: from.copyId, position: to } : undefined;
      } catch (failure) {
        error = failure;
      }
    }
    const failed = resolved.find((r) => r.kind === 'event');
    if (failed?.kind !== 'event' || this.definition.classifier.classify(error) !== 'dead-letter') throw error;
    const { position, envelope } = failed.event;
    const skipped = skippedEntry(position, error, envelope.id, envelope.type);
    this.logger.error(
      `Projection ${this.definition.name}: skipping ${envelope.type} ${envelope.id} at position ${position}: ${skipped.reason}`,
    );
    const rest = resolved.map((r): ResolvedEntry<Tx> => (r === failed ? { kind: 'skipped', skipped } : r));
    return (await this.commitResolved(from, to, rest, commit)) ? { copyId: from.copyId, position: to } : undefined;
  }

  private async commitResolved(
    from: Checkpoint,
    to: number,
    resolved: readonly ResolvedEntry<Tx>[],
    commit: CommitFn<Tx>,
  ): Promise<boolean> {
    const handlers = new Map<number, ProjectionHandler<Tx>>();
    const events: ProjectedEvent[] = [];
    for (const r of resolved) {
      if (r.kind !== 'event') continue;
      handlers.set(r.event.position, r.handler);
      events.push(r.event);
    }
    const callbacks: Array<() => void> = [];
    const afterCommit = (callback: () => void): void => void callbacks.push(callback);
    const { applyBatch } = this.definition;
    const committed = await commit({
      from,
      to,
      events,
      skipped: resolved.flatMap((r) => (r.kind === 'skipped' ? [r.skipped] : [])),
      apply: async (tx, fresh) => {
        callbacks.length = 0;
        if (applyBatch && fresh.length > 1) {
          await applyBatch(fresh, { tx, copy: this.copy, afterCommit });
          return;
        }
        for (const event of fresh) {
          await handlers
            .get(event.position)!
            .handle(event.envelope.data, { position: event.position, envelope: event.envelope, tx, copy: this.copy, afterCommit });
        }
      },
    });
    if (committed) this.runCallbacks(callbacks);
    return committed;
  }

  private runCallbacks(callbacks: readonly (() => void)[]): void {
    for (const callback of callbacks) {
      // Committed: a failing callback must not make the batch look failed (it would be skipped as applied anyway).
      try {
        callback();
      } catch (error) {
        this.logger.error(`Projection ${this.definition.name}: an after-commit callback failed: ${errorSummary(error)}`);
      }
    }
  }
}

function positionOf<Tx>(entry: ResolvedEntry<Tx>): number {
  return entry.kind === 'event' ? entry.event.position : entry.kind === 'ignored' ? entry.position : entry.skipped.position;
}
