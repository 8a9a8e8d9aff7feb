import type { LoggerService } from '@nestjs/common';
import type { Registry } from 'prom-client';
import type {
  ErrorClass,
  GroupCommitOptions,
  InboxStore,
  OutboxBackpressureOptions,
  OutboxRelayOptions,
  OutboxStore,
  PipelineStep,
  ProjectionStore,
  RetryOptions,
  Transport,
} from '@tidings/core';

/** Defaults applied to every subscription unless a handler's `@OnEvent` options say otherwise. */
export interface SubscriptionDefaults {
  /**
   * Unacknowledged messages the broker may push to one consumer. @default 20; for a grouped transactional subscription
   * enough to fill its groups: `maxMessages × (groupsInFlight + 1)`, 150 with the group-commit defaults
   */
  readonly prefetch?: number;
  /** Deliveries handled at once per consumer (at most `prefetch`). @default 10; for a grouped subscription, its prefetch */
  readonly concurrency?: number;
  /** Retry schedule. @default see `DEFAULT_RETRY_OPTIONS` in @tidings/core (5 attempts, 1s/10s/60s tiers) */
  readonly retry?: RetryOptions;
  /** Errors to retry even if they would dead-letter. @default [] */
  readonly retryOn?: readonly ErrorClass[];
  /** Errors to dead-letter at once. @default [] */
  readonly deadLetterOn?: readonly ErrorClass[];
  /** Whether subscriptions run through the inbox unless `@OnEvent` says otherwise. @default false */
  readonly transactional?: boolean;
  /**
   * Group commit of transactional subscriptions: the deliveries that arrive together share one transaction, each in
   * its own savepoint, and a failing handler fails only its delivery. `false` for one transaction per delivery.
   * @default on, with `DEFAULT_GROUP_COMMIT` (at most 50 per transaction, no added wait, 2 groups committing at once)
   */
  readonly groupCommit?: GroupCommitOptions | false;
}

/** Options of `EventBusModule.forRoot` / `forRootAsync`. */
export interface EventBusModuleOptions {
  /**
   * This service's name: the `source` of the events it publishes and the prefix of its queues
   * (`<service>.<subscription>`). Lower-case words, digits, `-` and `_`.
   */
  readonly service: string;
  /** The broker adapter, e.g. `new MemoryTransport()` or the RabbitMQ transport. */
  readonly transport: Transport;
  /** Defaults for every subscription. */
  readonly defaults?: SubscriptionDefaults;
  /** Largest accepted message body, checked before parsing. @default 1 MiB */
  readonly maxMessageBytes?: number;
  /**
   * The idempotent inbox of transactional subscriptions (`@OnEvent(..., { transactional: true })`, or
   * `defaults.transactional`): each is handled at most once per (message id, subscription). @default none
   */
  readonly inbox?: InboxStore;
  /** Runs an outbox relay in this application, publishing what the store holds through the transport. @default none */
  readonly outbox?: OutboxModuleOptions;
  /** Steps run before each handler (tracing, metrics, logging context). @default [] */
  readonly middleware?: readonly PipelineStep[];
  /** Where subscriptions, retries and dead letters are logged. @default new Logger('EventBus') */
  readonly logger?: LoggerService;
  /** Thresholds of {@link EventBusHealth}. */
  readonly health?: EventBusHealthOptions;
  /** Where {@link EventBusMetrics} registers its metrics. */
  readonly metrics?: EventBusMetricsOptions;
  /** Where the read models of the application's `@Projection` classes live. Required when it has any. */
  readonly projections?: ProjectionModuleOptions;
  /**
   * Whether this application does the bus's background work: consumes its subscriptions, runs its projections' live
   * copies and its outbox relay. `false` for a process that only administers, such as the `tidings` CLI rebuilding a
   * projection (it can still publish directly). @default true
   */
  readonly consume?: boolean;
}

/** The projections of {@link EventBusModuleOptions.projections}. */
export interface ProjectionModuleOptions {
  /**
   * The store of each projection, by name: e.g.
   * `(name) => new TypeOrmProjectionStore(dataSource, { projection: name, schema: name })` from @tidings/typeorm.
   */
  readonly store: (projection: string) => ProjectionStore<unknown>;
}

/** Options of the event bus's health check. */
export interface EventBusHealthOptions {
  /** The outbox is `down` once its oldest due record has waited longer than this. @default 30000 */
  readonly maxOutboxLagMs?: number;
}

/** Options of the event bus's Prometheus metrics. */
export interface EventBusMetricsOptions {
  /** A prom-client registry to share with the application's own metrics. @default a registry of the module's own */
  readonly registry?: Registry;
}

/** The outbox relay of {@link EventBusModuleOptions.outbox}. */
export interface OutboxModuleOptions {
  /** Where the outbox lives, e.g. `new TypeOrmOutboxStore(dataSource)` from @tidings/typeorm. */
  readonly store: OutboxStore;
  /** Relay tuning; its logger defaults to the module's. */
  readonly relay?: OutboxRelayOptions;
  /**
   * Refuse new work while more than `maxPending` records wait (see `OutboxBackpressureGuard`). @default none: the
   * backlog may grow as long as the database has room
   */
  readonly backpressure?: OutboxBackpressureOptions;
}

/** Options with every default applied. */
export interface ResolvedSubscriptionDefaults {
  /** As given; without it each subscription's mode picks its own. */
  readonly prefetch?: number;
  /** As given; without it each subscription's mode picks its own. */
  readonly concurrency?: number;
  readonly groupCommit: GroupCommitOptions | false;
  readonly retry: RetryOptions;
  readonly retryOn: readonly ErrorClass[];
  readonly deadLetterOn: readonly ErrorClass[];
  readonly transactional: boolean;
}

/** Default prefetch of a subscription's consumer. */
export const DEFAULT_PREFETCH = 20;
/** Default number of deliveries a consumer handles at once. */
export const DEFAULT_CONCURRENCY = 10;
