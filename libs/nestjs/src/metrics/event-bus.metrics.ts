import { Inject, Injectable } from '@nestjs/common';
import { OutboxRelay, type DeliveryReport, type PipelineStep, type ProjectionCopy, type Transport } from '@tidings/core';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { EVENT_BUS_OPTIONS, EVENT_BUS_TRANSPORT, OUTBOX_RELAY } from '../module/event-bus.module-definition.js';
import type { EventBusModuleOptions } from '../module/event-bus.options.js';

/** What a delivery came to, as the `outcome` label says it. */
export type DeliveryOutcomeLabel = 'ack' | 'retry' | 'dead_letter' | 'duplicate';

const outcomeLabel = (report: DeliveryReport): DeliveryOutcomeLabel => {
  if (report.context.duplicate) return 'duplicate';
  return report.outcome.kind === 'deadLetter' ? 'dead_letter' : report.outcome.kind;
};

/**
 * The event bus's Prometheus metrics, in their own registry (or the one given in the module's `metrics` option):
 *
 * - `tidings_deliveries_total{subscription,type,outcome}`: deliveries by outcome (`ack`, `retry`, `dead_letter`, and
 *   `duplicate` for redeliveries the inbox skipped);
 * - `tidings_handler_duration_seconds{subscription,type}`: handler time (for a transactional subscription: inside its transaction, the commit not included);
 * - `tidings_transport_up`: 1 while the transport reports itself healthy;
 * - with an outbox relay: `tidings_outbox_published_total`, `tidings_outbox_pending` and
 *   `tidings_outbox_oldest_due_age_seconds` (read from the store at each scrape);
 * - with projections: `tidings_projection_entries_total{projection,copy}` (log entries committed: applied, skipped or
 *   ignored) and `tidings_projection_position{projection,copy}` (the checkpoint), `copy` being `live` or `rebuild`.
 *
 * Serve {@link metrics} from your `/metrics` endpoint with {@link contentType}.
 */
@Injectable()
export class EventBusMetrics {
  readonly registry: Registry;
  private readonly deliveries: Counter<'subscription' | 'type' | 'outcome'>;
  private readonly handlerSeconds: Histogram<'subscription' | 'type'>;
  private readonly projectionEntries: Counter<'projection' | 'copy'>;
  private readonly projectionPosition: Gauge<'projection' | 'copy'>;

  constructor(
    @Inject(EVENT_BUS_OPTIONS) options: EventBusModuleOptions,
    @Inject(EVENT_BUS_TRANSPORT) transport: Transport,
    @Inject(OUTBOX_RELAY) relay: OutboxRelay | null,
  ) {
    this.registry = options.metrics?.registry ?? new Registry();
    const registers = [this.registry];
    this.deliveries = new Counter({
      name: 'tidings_deliveries_total',
      help: 'Deliveries handled, by subscription, event type and outcome.',
      labelNames: ['subscription', 'type', 'outcome'],
      registers,
    });
    this.handlerSeconds = new Histogram({
      name: 'tidings_handler_duration_seconds',
      help: 'Time spent in handlers (inside the inbox transaction for transactional subscriptions; the commit not included).',
      labelNames: ['subscription', 'type'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    new Gauge({
      name: 'tidings_transport_up',
      help: '1 while the transport reports itself able to publish and consume.',
      registers,
      collect() {
        this.set(transport.health?.().healthy === false ? 0 : 1);
      },
    });
    this.projectionEntries = new Counter({
      name: 'tidings_projection_entries_total',
      help: 'Event log entries a projection committed (applied, skipped or ignored), by copy.',
      labelNames: ['projection', 'copy'],
      registers,
    });
    this.projectionPosition = new Gauge({
      name: 'tidings_projection_position',
      help: "A projection copy's checkpoint: its position in the event log.",
      labelNames: ['projection', 'copy'],
      registers,
    });
    if (relay) this.registerOutbox(relay, registers);
  }

  /** Counts one committed projection batch. */
  recordProjection(projection: string, copy: ProjectionCopy, position: number, entries: number): void {
    this.projectionEntries.inc({ projection, copy }, entries);
    this.projectionPosition.set({ projection, copy }, position);
  }

  /** Times each handler; the event bus puts it first among the pipeline's middleware. */
  readonly timing: PipelineStep = async (context, next) => {
    const end = this.handlerSeconds.startTimer({ subscription: context.subscription, type: context.envelope?.type ?? 'unknown' });
    try {
      await next();
    } finally {
      end();
    }
  };

  /** Counts one settled delivery. */
  record(report: DeliveryReport): void {
    const type = report.context.envelope?.type ?? 'undecodable';
    this.deliveries.inc({ subscription: report.subscription, type, outcome: outcomeLabel(report) });
  }

  /** The Prometheus text exposition of the registry. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private registerOutbox(relay: OutboxRelay, registers: Registry[]): void {
    let reported = 0;
    new Counter({
      name: 'tidings_outbox_published_total',
      help: 'Outbox records the broker accepted, since the relay started.',
      registers,
      collect() {
        const published = relay.stats().published;
        // The relay counts from its start; a restart within the process begins again at zero.
        if (published > reported) this.inc(published - reported);
        reported = published;
      },
    });
    // One store read serves both gauges of a scrape.
    // An unreadable store (database away) reports NaN rather than failing the whole scrape.
    type Lag = Awaited<ReturnType<OutboxRelay['lag']>> | undefined;
    let lag: Promise<Lag> | undefined;
    const readLag = (): Promise<Lag> => {
      lag ??= relay
        .lag()
        .catch(() => undefined)
        .finally(() => {
          lag = undefined;
        });
      return lag;
    };
    new Gauge({
      name: 'tidings_outbox_pending',
      help: 'Outbox records waiting to be published (due or scheduled).',
      registers,
      async collect() {
        this.set((await readLag())?.pending ?? NaN);
      },
    });
    new Gauge({
      name: 'tidings_outbox_oldest_due_age_seconds',
      help: 'How long the oldest due outbox record has waited.',
      registers,
      async collect() {
        const read = await readLag();
        this.set(read ? read.oldestDueAgeMs / 1000 : NaN);
      },
    });
  }
}
