import { Inject, Injectable } from '@nestjs/common';
import { errorSummary, OutboxRelay, withDeadline, type Transport } from '@tidings/core';
import { EVENT_BUS_OPTIONS, EVENT_BUS_TRANSPORT, OUTBOX_RELAY } from '../module/event-bus.module-definition.js';
import type { EventBusModuleOptions } from '../module/event-bus.options.js';
import type { ComponentHealth, EventBusHealthReport, OutboxHealth } from './event-bus-health.report.js';

/** Default of {@link EventBusHealthOptions.maxOutboxLagMs}. */
export const DEFAULT_MAX_OUTBOX_LAG_MS = 30_000;
const OUTBOX_READ_TIMEOUT_MS = 2000;

/**
 * The event bus's side of a health check: is the broker reachable, and is the outbox drained in time? Serve it
 * from your health endpoint (or a `@nestjs/terminus` indicator) and answer 503 when `status` is `down`.
 */
@Injectable()
export class EventBusHealth {
  private readonly maxOutboxLagMs: number;

  constructor(
    @Inject(EVENT_BUS_OPTIONS) options: EventBusModuleOptions,
    @Inject(EVENT_BUS_TRANSPORT) private readonly transport: Transport,
    @Inject(OUTBOX_RELAY) private readonly relay: OutboxRelay | null,
  ) {
    this.maxOutboxLagMs = options.health?.maxOutboxLagMs ?? DEFAULT_MAX_OUTBOX_LAG_MS;
  }

  async check(): Promise<EventBusHealthReport> {
    const broker = this.broker();
    const outbox = this.relay ? await this.outbox(this.relay) : undefined;
    const status = broker.status === 'up' && (outbox?.status ?? 'up') === 'up' ? 'up' : 'down';
    return { status, broker, ...(outbox && { outbox }) };
  }

  private broker(): ComponentHealth {
    const health = this.transport.health?.();
    if (!health) return { status: 'up', detail: `${this.transport.name} transport reports no health` };
    return { status: health.healthy ? 'up' : 'down', detail: health.detail };
  }

  private async outbox(relay: OutboxRelay): Promise<OutboxHealth> {
    const stats = relay.stats();
    if (stats.state === 'stopped') return { status: 'down', detail: 'outbox relay stopped' };
    try {
      const { pending, oldestDueAgeMs } = await withDeadline(relay.lag(), OUTBOX_READ_TIMEOUT_MS, 'the outbox backlog');
      const late = oldestDueAgeMs > this.maxOutboxLagMs;
      const relayState = stats.state === 'backing-off' ? `relay backing off (${stats.lastError ?? 'last claim failed'})` : 'relay running';
      return {
        status: late ? 'down' : 'up',
        detail: `${pending} pending, oldest waited ${oldestDueAgeMs} ms${late ? ` (limit ${this.maxOutboxLagMs} ms)` : ''}; ${relayState}`,
        pending,
        oldestDueAgeMs,
      };
    } catch (error) {
      return { status: 'down', detail: `outbox unreadable: ${errorSummary(error)}` };
    }
  }
}
