import { Inject, Injectable, Logger, type LoggerService } from '@nestjs/common';
import {
  ConfigurationError,
  errorSummary,
  ProjectionRebuild,
  ProjectionRebuildRunningError,
  ProjectionRunner,
  type EventLog,
  type ProjectionCopy,
  type ProjectionDefinition,
  type ProjectionStatus,
  type ProjectionStore,
  type RebuildProgress,
  type RebuildResult,
  type SkippedEvent,
  type Transport,
  withDeadline,
} from '@tidings/core';
import { EVENT_BUS_OPTIONS, EVENT_BUS_TRANSPORT } from '../module/event-bus.module-definition.js';
import type { EventBusModuleOptions } from '../module/event-bus.options.js';
import { EventBusMetrics } from '../metrics/event-bus.metrics.js';
import { ProjectionExplorer } from './projection.explorer.js';
import type { ProjectionOptions } from './projection.decorator.js';

/** A projection's state, as the admin endpoint and the CLI show it. */
export interface ProjectionReport extends ProjectionStatus {
  readonly name: string;
  /** The log's head: the live copy is caught up when its position reaches it. */
  readonly head: number;
  /** Progress of a rebuild started from this process, if one is running or finished here. */
  readonly progress?: RebuildProgress;
  /** Why the last rebuild started from this process failed, if it did. */
  readonly lastError?: string;
}

interface Registered {
  readonly definition: ProjectionDefinition<unknown>;
  readonly options: ProjectionOptions;
  readonly store: ProjectionStore<unknown>;
  runner?: ProjectionRunner<unknown>;
  running?: Promise<unknown>;
  rebuild?: { readonly done: Promise<RebuildResult>; finished: boolean; progress?: RebuildProgress; error?: string };
}

/** Options of {@link Projections.rebuild}. */
export interface RebuildOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** @default 500 */
  readonly progressEveryMs?: number;
  /** Log entries per transaction for this rebuild. @default the projection's `batchSize` */
  readonly batchSize?: number;
}

/**
 * The application's projections: runs each live copy from the event log while the application consumes, and
 * rebuilds them on demand (`tidings projection rebuild <name>`, or an admin endpoint calling {@link startRebuild}).
 */
@Injectable()
export class Projections {
  private readonly registered = new Map<string, Registered>();
  private readonly stopping = new AbortController();
  private readonly logger: LoggerService;

  constructor(
    @Inject(EVENT_BUS_OPTIONS) private readonly options: EventBusModuleOptions,
    @Inject(EVENT_BUS_TRANSPORT) private readonly transport: Transport,
    private readonly explorer: ProjectionExplorer,
    private readonly metrics: EventBusMetrics,
  ) {
    this.logger = options.logger ?? new Logger('Projections');
  }

  /** Finds the application's projections and their stores (the module calls it at bootstrap). */
  discover(): void {
    for (const { definition, options } of this.explorer.explore()) {
      const factory = this.options.projections?.store;
      if (!factory) {
        throw new ConfigurationError(
          `Projection ${definition.name} needs a store, and EventBusModule has no projections.store`,
          "Pass projections: { store: (name) => new TypeOrmProjectionStore(dataSource, { projection: name, schema: name }) } from '@tidings/typeorm'.",
          { projection: definition.name },
        );
      }
      this.eventLog(definition.name);
      this.registered.set(definition.name, { definition, options, store: factory(definition.name) });
    }
  }

  /**
   * Starts following the log with each projection's live copy (the module calls it when it consumes). The live copy
   * is opened (created on first start) before the application finishes starting, so a store that cannot hold it (a
   * schema holding someone else's tables, a database that does not answer) fails the startup rather than a background loop.
   */
  async startLive(): Promise<void> {
    for (const entry of this.registered.values()) await entry.store.open('live', entry.definition.createReadModel);
    for (const entry of this.registered.values()) {
      const runner = new ProjectionRunner(entry.definition, entry.store, this.eventLog(entry.definition.name), 'live', {
        follow: true,
        logger: this.logger,
        onCommitted: (checkpoint, entries) => this.metrics.recordProjection(entry.definition.name, 'live', checkpoint.position, entries),
        ...(entry.options.batchSize !== undefined && { batchSize: entry.options.batchSize }),
        ...(this.options.maxMessageBytes !== undefined && { maxBytes: this.options.maxMessageBytes }),
      });
      entry.runner = runner;
      entry.running = runner.run(this.stopping.signal);
      this.logger.log(`Projection ${entry.definition.name} follows the event log`);
    }
  }

  /** Stops live runners and rebuilds started here; an interrupted rebuild resumes when started again. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.registered.values()].flatMap((e) => [e.running, e.rebuild?.done]));
  }

  names(): string[] {
    return [...this.registered.keys()];
  }

  async status(name: string): Promise<ProjectionReport> {
    const entry = this.get(name);
    const [status, head] = await Promise.all([entry.store.status(), this.eventLog(name).head()]);
    return {
      name,
      head,
      ...status,
      ...(entry.rebuild?.progress && { progress: entry.rebuild.progress }),
      ...(entry.rebuild?.error !== undefined && { lastError: entry.rebuild.error }),
    };
  }

  /** Events a copy passed over, newest first. */
  skipped(name: string, copy: ProjectionCopy = 'live', limit = 100): Promise<SkippedEvent[]> {
    return this.get(name).store.skipped(copy, limit);
  }

  /** Runs a rebuild to its swap (or resumes an interrupted one). Rejects with `ProjectionRebuildRunningError` if one is running anywhere. */
  rebuild(name: string, options: RebuildOptions = {}): Promise<RebuildResult> {
    const entry = this.get(name);
    const signal = options.signal ? AbortSignal.any([options.signal, this.stopping.signal]) : this.stopping.signal;
    const batchSize = options.batchSize ?? entry.options.batchSize;
    const rebuild = new ProjectionRebuild(entry.definition, entry.store, this.eventLog(name), {
      logger: this.logger,
      ...(batchSize !== undefined && { batchSize }),
      ...(this.options.maxMessageBytes !== undefined && { maxBytes: this.options.maxMessageBytes }),
      ...(options.progressEveryMs !== undefined && { progressEveryMs: options.progressEveryMs }),
      onCommitted: (checkpoint, entries) => this.metrics.recordProjection(name, 'rebuild', checkpoint.position, entries),
      onProgress: (progress) => {
        if (entry.rebuild) entry.rebuild.progress = progress;
        options.onProgress?.(progress);
      },
    });
    return rebuild.run(signal);
  }

  /**
   * Starts a rebuild in the background (for an admin endpoint) and returns once it holds the rebuild lock; follow
   * it with {@link status}. Rejects with `ProjectionRebuildRunningError` if one is running, here or elsewhere.
   */
  async startRebuild(name: string): Promise<void> {
    const entry = this.get(name);
    if (entry.rebuild && !entry.rebuild.finished) throw new ProjectionRebuildRunningError(name);
    let started!: () => void;
    const locked = new Promise<void>((resolve) => (started = resolve));
    const done = this.rebuild(name, { onProgress: () => started() });
    const state: NonNullable<Registered['rebuild']> = { done, finished: false };
    entry.rebuild = state;
    done.then(
      () => (state.finished = true),
      (error: unknown) => {
        state.finished = true;
        state.error = errorSummary(error);
        if (!(error instanceof ProjectionRebuildRunningError)) this.logger.error(`Projection ${name}: the rebuild failed: ${state.error}`);
      },
    );
    // The first progress report comes once the rebuild holds the lock and its copy exists.
    await Promise.race([locked, done.then(() => undefined)]);
  }

  /** Resolves once the live copy has applied everything published before the call. */
  async whenCaughtUp(name: string, timeoutMs = 30_000): Promise<void> {
    const entry = this.get(name);
    if (!entry.runner)
      throw new ConfigurationError(`Projection ${name} is not running live here`, 'Call it in an application that consumes.');
    const runner = entry.runner;
    const target = await this.endOfHistory(name, runner.checkpoint?.position ?? 0);
    await withDeadline(
      runner.reached(target),
      timeoutMs,
      () => `projection ${name} to reach position ${target} (it is at ${runner.checkpoint?.position})`,
    );
  }

  /**
   * One past the last entry published so far, read from `from` on. Not the log's head: a log may hold entries no
   * reader sees (the RabbitMQ stream's head markers), and a checkpoint only moves past entries it was given.
   */
  private async endOfHistory(name: string, from: number): Promise<number> {
    let end = from;
    for await (const entry of this.eventLog(name).read(from)) end = entry.position + 1;
    return end;
  }

  private get(name: string): Registered {
    const entry = this.registered.get(name);
    if (!entry) {
      throw new ConfigurationError(`There is no projection named ${name}`, `Known projections: ${this.names().join(', ') || 'none'}.`, {
        projection: name,
      });
    }
    return entry;
  }

  private eventLog(projection: string): EventLog {
    const log = this.transport.eventLog;
    if (!log) {
      throw new ConfigurationError(
        `Projection ${projection} reads the event log, and the ${this.transport.name} transport keeps none`,
        'Enable it, e.g. new RabbitMqTransport({ ..., eventLog: true }); the memory transport always has one.',
        { projection },
      );
    }
    return log;
  }
}
