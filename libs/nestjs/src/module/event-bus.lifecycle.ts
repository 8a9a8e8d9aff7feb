import {
  Inject,
  Injectable,
  Logger,
  type LoggerService,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import {
  ConfigurationError,
  EventTypeRegistry,
  HandlerPipeline,
  OutboxRelay,
  type DeliveryReport,
  type HandlerBinding,
  type InboxStore,
  type ResolvedGroupCommitOptions,
  type Transport,
} from '@tidings/core';
import { EventHandlerExplorer } from '../discovery/event-handler.explorer.js';
import { planSubscriptions } from '../discovery/subscription.planner.js';
import { EventBusMetrics } from '../metrics/event-bus.metrics.js';
import { Projections } from '../projection/projections.js';
import { EVENT_BUS_OPTIONS, EVENT_BUS_TRANSPORT, OUTBOX_RELAY } from './event-bus.module-definition.js';
import type { EventBusModuleOptions } from './event-bus.options.js';
import { validateModuleOptions } from './options.validation.js';

const INBOX_PURGE_INTERVAL_MS = 60_000;
const INBOX_PURGE_BATCH = 5000;

const describeDelay = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

const describeGrouping = (bindings: readonly HandlerBinding[], groupCommit: ResolvedGroupCommitOptions | false): string => {
  if (!groupCommit) return '';
  const what = bindings.some((b) => b.batch) ? 'batches of' : 'group commit, groups of';
  return `, ${what} up to ${groupCommit.maxMessages}`;
};

/**
 * Connects the transport at module init (so any module may publish from its own `onModuleInit`),
 * subscribes the discovered handlers and starts the projections at bootstrap (unless `consume` is false), and drains at shutdown: consumers are cancelled
 * and in-flight handlers finish before the transport disconnects.
 *
 * The module is global, so Nest initialises it first and destroys it last: resources your handlers
 * use must be closed in `onApplicationShutdown` (as TypeORM does), not `onModuleDestroy`.
 */
@Injectable()
export class EventBusLifecycle implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger: LoggerService;
  private readonly resolved: ReturnType<typeof validateModuleOptions>;
  private inboxPurge: ReturnType<typeof setInterval> | undefined;

  constructor(
    @Inject(EVENT_BUS_OPTIONS) private readonly options: EventBusModuleOptions,
    @Inject(EVENT_BUS_TRANSPORT) private readonly transport: Transport,
    private readonly explorer: EventHandlerExplorer,
    private readonly registry: EventTypeRegistry,
    @Inject(OUTBOX_RELAY) private readonly relay: OutboxRelay | null,
    private readonly metrics: EventBusMetrics,
    private readonly projections: Projections,
  ) {
    this.resolved = validateModuleOptions({ ...options, transport });
    this.logger = options.logger ?? new Logger('EventBus');
  }

  async onModuleInit(): Promise<void> {
    await this.transport.start();
  }

  async onApplicationBootstrap(): Promise<void> {
    const { service, inbox, middleware } = this.options;
    // Each forRoot would subscribe every handler again: two consumers per queue, effects doubled.
    if (this.explorer.countInstancesOf(EventBusLifecycle) > 1) {
      throw new ConfigurationError(
        'EventBusModule.forRoot/forRootAsync is imported more than once in this application',
        'Import it once, in the root module; it is global, so feature modules inject EventBus without importing it.',
      );
    }
    this.projections.discover();
    if (this.options.consume === false) return;
    const plans = planSubscriptions(service, this.explorer.explore(), this.resolved.defaults, this.registry, {
      groups: typeof inbox?.runGroup === 'function',
    });
    for (const { subscription, bindings, transactional, groupCommit } of plans) {
      if (transactional && !inbox) {
        throw new ConfigurationError(
          `Subscription ${subscription.name} (${bindings.map((b) => b.name).join(', ')}) is transactional, but EventBusModule has no inbox`,
          "Pass an inbox, e.g. inbox: new TypeOrmInboxStore(dataSource) from '@tidings/typeorm', or drop transactional.",
          { subscription: subscription.name },
        );
      }
      if (transactional && inbox) this.checkInboxRetention(subscription.name, bindings, inbox);
      const pipeline = new HandlerPipeline({
        subscription: subscription.name,
        handlers: bindings,
        maxMessageBytes: this.resolved.maxMessageBytes,
        ...(transactional && inbox && { inbox }),
        groupCommit,
        middleware: [this.metrics.timing, ...(middleware ?? [])],
        onSettled: (report) => {
          this.metrics.record(report);
          this.logOutcome(report);
        },
      });
      await this.transport.subscribe(subscription, pipeline.deliver);
      this.logger.log(
        `${subscription.name} ← ${subscription.patterns.join(', ')} → ${bindings.map((b) => b.name).join(', ')} ` +
          `(prefetch ${subscription.prefetch}, concurrency ${subscription.concurrency}, retry tiers ${subscription.retryTiersMs.map(describeDelay).join('/')}` +
          `${describeGrouping(bindings, groupCommit)})`,
      );
    }
    if (plans.some((plan) => plan.transactional)) this.startInboxPurge();
    await this.projections.startLive();
    // After the subscriptions, so this application's own queues exist before its backlog is published into them.
    await this.relay?.start();
  }

  private checkInboxRetention(subscription: string, bindings: readonly HandlerBinding[], inbox: InboxStore): void {
    if (inbox.retentionMs === undefined) return;
    const horizonMs = Math.max(...bindings.map((b) => b.retry.horizonMs()));
    if (inbox.retentionMs <= horizonMs) {
      throw new ConfigurationError(
        `Subscription ${subscription} may retry a message for up to ${horizonMs} ms, longer than the inbox keeps handled messages (${inbox.retentionMs} ms)`,
        'A redelivery after the inbox forgot the message would run the handler again: raise the inbox retention or shorten the retry schedule.',
        { subscription, horizonMs, retentionMs: inbox.retentionMs },
      );
    }
  }

  private startInboxPurge(): void {
    const inbox = this.options.inbox;
    const purgeExpired = inbox?.purgeExpired?.bind(inbox);
    if (!purgeExpired) return;
    const purge = async (): Promise<void> => {
      try {
        while ((await purgeExpired(INBOX_PURGE_BATCH)) === INBOX_PURGE_BATCH);
      } catch (error) {
        this.logger.warn(`Purging expired inbox rows failed (${error instanceof Error ? error.message : String(error)}); will try again`);
      }
    };
    this.inboxPurge = setInterval(() => void purge(), INBOX_PURGE_INTERVAL_MS);
    this.inboxPurge.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.inboxPurge);
    await this.projections.stop();
    await this.relay?.stop();
    await this.transport.stop();
  }

  private logOutcome({ outcome, message, subscription }: DeliveryReport): void {
    const id = message.attributes['id'] ?? '(no id)';
    if (outcome.kind === 'retry') {
      this.logger.warn(
        `${subscription}: ${message.routingKey} ${id} failed attempt ${message.attempt} (${outcome.failure.errorName}: ${outcome.failure.message}); retrying in ${describeDelay(outcome.delayMs)}`,
      );
    } else if (outcome.kind === 'deadLetter') {
      const r = outcome.reason;
      this.logger.error(
        `${subscription}: ${message.routingKey} ${id} dead-lettered after ${r.attempts} attempt(s): ${r.code} ${r.errorName}: ${r.message}`,
      );
    }
  }
}
