// Test support for the projection specs (not exported from the package; jest runs only `*.spec.ts`).
import { encodeEnvelope } from '../decoding/envelope.codec.js';
import type { Envelope } from '../envelope/envelope.js';
import { createEnvelope } from '../envelope/envelope.factory.js';
import { getEventDefinition, IntegrationEvent } from '../events/integration-event.decorator.js';
import type { TidingsLogger } from '../logging/tidings-logger.js';
import type { MemoryEventLog } from '../memory/memory.event-log.js';
import { ErrorClassifier } from '../retry/error.classifier.js';
import type { ProjectedEvent, ProjectionBatchContext, ProjectionContext } from './projected-event.js';
import type { ProjectionDefinition } from './projection.definition.js';
import { ProjectionRebuildRunningError } from './projection-rebuild.error.js';
import type {
  Checkpoint,
  CopyStatus,
  ProjectionCommit,
  ProjectionCopy,
  ProjectionStatus,
  ProjectionStore,
  SkippedEvent,
  SwapCatchUp,
} from './projection.store.js';

/** The transaction a test projection's handlers write in: a draft of one copy's read model. */
export interface TestTx {
  readonly copy: ProjectionCopy;
  readonly copyId: string;
  /** The read model: rows by key. Store values that are not mutated in place (drafts copy the map, not the values). */
  readonly rows: Map<string, unknown>;
  /** What handlers applied, in order (tests push the event id): counts effects, so a lost or doubled one shows. */
  readonly effects: string[];
}

/** One copy as the store holds it. */
export interface CopySnapshot {
  readonly copyId: string;
  readonly position: number;
  readonly rows: ReadonlyMap<string, unknown>;
  readonly effects: readonly string[];
  /** Ids of the events applied (as recorded for deduplication), in the order they were recorded. */
  readonly applied: readonly string[];
  readonly skipped: readonly SkippedEvent[];
}

/** A commit that took effect, for tests to check how batches were cut. */
export interface CommitRecord {
  readonly copy: ProjectionCopy;
  readonly from: number;
  readonly to: number;
  /** Events applied (after deduplication). */
  readonly applied: number;
  readonly skipped: number;
  /** Made inside a swap's transaction (the catch-up). */
  readonly inSwap: boolean;
}

interface CopyState {
  copyId: string;
  position: number;
  updatedAt: Date;
  rows: Map<string, unknown>;
  effects: string[];
  /** Event id → position, for deduplication. */
  applied: Map<string, number>;
  skipped: SkippedEvent[];
}

type Slot = ProjectionCopy | 'retired';

const clone = (state: CopyState): CopyState => ({
  ...state,
  rows: new Map(state.rows),
  effects: [...state.effects],
  applied: new Map(state.applied),
  skipped: [...state.skipped],
});

const checkpointOf = (state: CopyState): Checkpoint => ({ copyId: state.copyId, position: state.position });

/**
 * A {@link ProjectionStore} in memory with the semantics of the TypeORM store: each commit is all-or-nothing (applied
 * to a draft kept only if everything resolves) and refused, changing nothing, when the copy is not at `from`; events
 * whose id the copy applied before are not passed to `apply`; `open`, `commit` and `swap` are serialised (a live
 * commit waits for a swap, as it waits for the swap's table lock in PostgreSQL); the swap is one transaction that
 * makes the rebuild copy live (keeping its copy id) and retires the old one. Inside a swap, the catch-up's commits
 * write straight into the swap's transaction: as in PostgreSQL, which has no savepoint there, a commit that throws
 * leaves what it wrote, and only the whole swap rolls back.
 */
export class TestProjectionStore implements ProjectionStore<TestTx> {
  /** Commits refused because the copy was not at their `from`. */
  refused = 0;
  /** Commits that took effect, in order. */
  readonly commits: CommitRecord[] = [];
  /** Swaps that completed. */
  swaps = 0;
  /** Awaited before each commit takes the store's lock: lets a test move the copy under a runner. */
  beforeCommit: ((copy: ProjectionCopy, commit: ProjectionCommit<TestTx>) => Promise<void>) | undefined;
  /** Awaited before a swap takes the store's lock: lets the live copy move ahead of the rebuild. */
  beforeSwap: (() => Promise<void>) | undefined;

  private readonly copies = new Map<Slot, CopyState>();
  private readonly commitFailures: unknown[] = [];
  private readonly swapFailures: unknown[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private rebuildLocked = false;
  private nextCopyId = 1;

  constructor(readonly projection = 'spec') {}

  /** The next `count` commits run their batch and then fail with `error` (rolled back), as a database failure would. */
  failNextCommits(count: number, error: unknown): void {
    for (let i = 0; i < count; i++) this.commitFailures.push(error);
  }

  /** The next `count` swaps fail with `error` before changing anything. */
  failNextSwaps(count: number, error: unknown): void {
    for (let i = 0; i < count; i++) this.swapFailures.push(error);
  }

  /** A copy as it stands, or `undefined`. */
  snapshot(slot: Slot): CopySnapshot | undefined {
    const state = this.copies.get(slot);
    if (!state) return undefined;
    return {
      copyId: state.copyId,
      position: state.position,
      rows: new Map(state.rows),
      effects: [...state.effects],
      applied: [...state.applied.keys()],
      skipped: [...state.skipped],
    };
  }

  open(copy: ProjectionCopy, create: (tx: TestTx) => Promise<void>): Promise<Checkpoint> {
    return this.exclusive(async () => {
      const existing = this.copies.get(copy);
      if (existing) return checkpointOf(existing);
      const state: CopyState = {
        copyId: `${copy}-${this.nextCopyId++}`,
        position: 0,
        updatedAt: new Date(),
        rows: new Map(),
        effects: [],
        applied: new Map(),
        skipped: [],
      };
      await create(this.txOf(copy, state));
      this.copies.set(copy, state);
      return checkpointOf(state);
    });
  }

  async checkpoint(copy: ProjectionCopy): Promise<Checkpoint | undefined> {
    const state = this.copies.get(copy);
    return state && checkpointOf(state);
  }

  async commit(copy: ProjectionCopy, commit: ProjectionCommit<TestTx>): Promise<boolean> {
    await this.beforeCommit?.(copy, commit);
    return this.exclusive(async () => {
      const current = this.copies.get(copy);
      if (!current || !this.isAt(current, commit.from)) {
        this.refused += 1;
        return false;
      }
      const draft = clone(current);
      await this.commitInto(copy, draft, commit, false);
      if (this.commitFailures.length > 0) throw this.commitFailures.shift();
      this.copies.set(copy, draft);
      return true;
    });
  }

  async swap(catchUp: SwapCatchUp<TestTx>): Promise<void> {
    await this.beforeSwap?.();
    return this.exclusive(async () => {
      if (this.swapFailures.length > 0) throw this.swapFailures.shift();
      const live = this.copies.get('live');
      const rebuild = this.copies.get('rebuild');
      if (!rebuild) throw new Error(`Projection ${this.projection} has no rebuild copy to swap in`);
      const draft = clone(rebuild);
      const records: CommitRecord[] = [];
      await catchUp(live && checkpointOf(live), checkpointOf(rebuild), async (commit) => {
        if (!this.isAt(draft, commit.from)) throw new Error(`the rebuild copy of projection ${this.projection} moved during the swap`);
        records.push(await this.commitInto('rebuild', draft, commit, true));
      });
      this.commits.push(...records);
      if (live) this.copies.set('retired', live);
      this.copies.set('live', draft);
      this.copies.delete('rebuild');
      this.swaps += 1;
    });
  }

  async dropRetired(): Promise<void> {
    this.copies.delete('retired');
  }

  async lockRebuild(): Promise<() => Promise<void>> {
    if (this.rebuildLocked) throw new ProjectionRebuildRunningError(this.projection);
    this.rebuildLocked = true;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      this.rebuildLocked = false;
    };
  }

  async status(): Promise<ProjectionStatus> {
    const live = this.statusOf('live');
    const rebuild = this.statusOf('rebuild');
    return { ...(live && { live }), ...(rebuild && { rebuild }), rebuildRunning: this.rebuildLocked };
  }

  async skipped(copy: ProjectionCopy, limit: number): Promise<SkippedEvent[]> {
    const state = this.copies.get(copy);
    return state ? [...state.skipped].sort((a, b) => b.position - a.position).slice(0, limit) : [];
  }

  private statusOf(copy: ProjectionCopy): CopyStatus | undefined {
    const state = this.copies.get(copy);
    return state && { ...checkpointOf(state), updatedAt: state.updatedAt, skipped: state.skipped.length };
  }

  private isAt(state: CopyState, from: Checkpoint): boolean {
    return state.copyId === from.copyId && state.position === from.position;
  }

  /** Writes a commit into `state` in place, in the TypeORM store's order: applied ids, the batch, skipped events, the checkpoint. */
  private async commitInto(
    copy: ProjectionCopy,
    state: CopyState,
    commit: ProjectionCommit<TestTx>,
    inSwap: boolean,
  ): Promise<CommitRecord> {
    const fresh = commit.events.filter((event) => {
      if (state.applied.has(event.envelope.id)) return false;
      state.applied.set(event.envelope.id, event.position);
      return true;
    });
    if (fresh.length > 0) await commit.apply(this.txOf(copy, state), fresh);
    for (const skipped of commit.skipped) {
      if (!state.skipped.some((s) => s.position === skipped.position)) state.skipped.push(skipped);
    }
    state.position = commit.to;
    state.updatedAt = new Date();
    const record: CommitRecord = {
      copy,
      from: commit.from.position,
      to: commit.to,
      applied: fresh.length,
      skipped: commit.skipped.length,
      inSwap,
    };
    if (!inSwap) this.commits.push(record);
    return record;
  }

  private txOf(copy: ProjectionCopy, state: CopyState): TestTx {
    return { copy, copyId: state.copyId, rows: state.rows, effects: state.effects };
  }

  /** Runs `work` after every earlier open, commit and swap has finished (one transaction at a time). */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** A logger that keeps its lines (`warn: ...`), for tests to check what was said. */
export class RecordingLogger implements TidingsLogger {
  readonly lines: string[] = [];

  log(message: string): void {
    this.lines.push(`log: ${message}`);
  }

  warn(message: string): void {
    this.lines.push(`warn: ${message}`);
  }

  error(message: string): void {
    this.lines.push(`error: ${message}`);
  }

  count(level: 'log' | 'warn' | 'error', containing = ''): number {
    return this.lines.filter((line) => line.startsWith(`${level}: `) && line.includes(containing)).length;
  }
}

/** Publishes an event to the log as the outbox relay would (binary content mode); returns its envelope. */
export function publish<T>(
  log: MemoryEventLog,
  type: string,
  data: T,
  options: { readonly version?: number; readonly id?: string } = {},
): Envelope<T> {
  const envelope = createEnvelope({
    type,
    version: options.version ?? 1,
    source: 'spec',
    data,
    ...(options.id !== undefined && { id: options.id }),
  });
  log.append(encodeEnvelope(envelope));
  return envelope;
}

/** Resolves once every pending promise job has run (the memory log's reads and the runners' commits are all promise jobs). */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

@IntegrationEvent('spec.item.added')
export class ItemAdded {
  declare readonly item: string;
  declare readonly title: string;
}

@IntegrationEvent('spec.item.removed')
export class ItemRemoved {
  declare readonly item: string;
}

/** Options of {@link itemsProjection}. */
export interface ItemsProjectionOptions {
  /** Give the projection an `applyBatch`. */
  readonly batch?: boolean;
  /** Called by each handler before it writes; throw to fail the event. */
  readonly onEvent?: (envelope: Envelope, context: ProjectionContext<TestTx>) => void;
  /** Called by `applyBatch` after it has written the first event; throw to fail the batch (the first write is then rolled back). */
  readonly onBatch?: (events: readonly ProjectedEvent[], context: ProjectionBatchContext<TestTx>) => void;
  readonly classifier?: ErrorClassifier;
}

/** What an {@link itemsProjection} was asked to do, failed attempts included. */
export interface ItemsProjectionCalls {
  /** Positions handed to the per-event handlers, in call order. */
  readonly handled: number[];
  /** Positions of each `applyBatch` call. */
  readonly batches: number[][];
  /** Copies whose read model was created. */
  readonly created: ProjectionCopy[];
}

/** Writes one item event into the read model, and its id into the effects. */
export function applyItem(tx: TestTx, envelope: Envelope): void {
  const data = envelope.data as { readonly item: string; readonly title?: string };
  if (envelope.type === 'spec.item.added') tx.rows.set(data.item, data.title);
  else tx.rows.delete(data.item);
  tx.effects.push(envelope.id);
}

/**
 * A projection of items (`spec.item.added` sets a row, `spec.item.removed` deletes it) writing through {@link TestTx},
 * with hooks to make handlers or batches fail.
 */
export function itemsProjection(options: ItemsProjectionOptions = {}): {
  readonly definition: ProjectionDefinition<TestTx>;
  readonly calls: ItemsProjectionCalls;
} {
  const calls: ItemsProjectionCalls = { handled: [], batches: [], created: [] };
  const handle = (data: unknown, context: ProjectionContext<TestTx>): void => {
    calls.handled.push(context.position);
    options.onEvent?.(context.envelope, context);
    applyItem(context.tx, context.envelope);
  };
  const definition: ProjectionDefinition<TestTx> = {
    name: 'items',
    handlers: [
      { name: 'Items.onAdded', event: getEventDefinition(ItemAdded), handle },
      { name: 'Items.onRemoved', event: getEventDefinition(ItemRemoved), handle },
    ],
    createReadModel: async (tx) => void calls.created.push(tx.copy),
    classifier: options.classifier ?? new ErrorClassifier(),
    ...(options.batch && {
      applyBatch: (events: readonly ProjectedEvent[], context: ProjectionBatchContext<TestTx>) => {
        calls.batches.push(events.map((e) => e.position));
        events.forEach((event, index) => {
          applyItem(context.tx, event.envelope);
          if (index === 0) options.onBatch?.(events, context);
        });
      },
    }),
  };
  return { definition, calls };
}

/** The read model the items projection should hold after applying `envelopes` in order. */
export function expectedItems(envelopes: readonly Envelope[]): Map<string, unknown> {
  const tx: TestTx = { copy: 'live', copyId: 'expected', rows: new Map(), effects: [] };
  const seen = new Set<string>();
  for (const envelope of envelopes) {
    if (envelope.type !== 'spec.item.added' && envelope.type !== 'spec.item.removed') continue;
    if (seen.has(envelope.id)) continue;
    seen.add(envelope.id);
    applyItem(tx, envelope);
  }
  return tx.rows;
}
