import { Logger, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { EventEnveloper, EventTypeRegistry, OutboxBackpressure, OutboxRelay, type Transport } from '@tidings/core';
import { EventHandlerExplorer } from '../discovery/event-handler.explorer.js';
import { EventBusHealth } from '../health/event-bus.health.js';
import { EventBusMetrics } from '../metrics/event-bus.metrics.js';
import { EventBus } from '../publishing/event-bus.js';
import { OutboxBackpressureGuard } from '../publishing/outbox-backpressure.guard.js';
import { EventBusLifecycle } from './event-bus.lifecycle.js';
import { ProjectionExplorer } from '../projection/projection.explorer.js';
import { Projections } from '../projection/projections.js';
import {
  ConfigurableEventBusModule,
  EVENT_BUS_OPTIONS,
  EVENT_BUS_TRANSPORT,
  OUTBOX_BACKPRESSURE,
  OUTBOX_RELAY,
} from './event-bus.module-definition.js';
import type { EventBusModuleOptions } from './event-bus.options.js';

/**
 * The event bus for a Nest application: `EventBusModule.forRoot({ service, transport })` or
 * `forRootAsync({ useFactory, inject })`. Provides {@link EventBus} and runs every `@OnEvent` handler.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    { provide: EventTypeRegistry, useFactory: () => new EventTypeRegistry() },
    {
      provide: EventEnveloper,
      useFactory: (options: EventBusModuleOptions, registry: EventTypeRegistry) => new EventEnveloper(options.service, registry),
      inject: [EVENT_BUS_OPTIONS, EventTypeRegistry],
    },
    { provide: EVENT_BUS_TRANSPORT, useFactory: (options: EventBusModuleOptions) => options.transport, inject: [EVENT_BUS_OPTIONS] },
    {
      provide: OUTBOX_RELAY,
      useFactory: (options: EventBusModuleOptions, transport: Transport): OutboxRelay | null =>
        options.outbox
          ? new OutboxRelay(options.outbox.store, transport, {
              logger: options.logger ?? new Logger('OutboxRelay'),
              ...options.outbox.relay,
            })
          : null,
      inject: [EVENT_BUS_OPTIONS, EVENT_BUS_TRANSPORT],
    },
    {
      provide: OUTBOX_BACKPRESSURE,
      useFactory: (options: EventBusModuleOptions, relay: OutboxRelay | null): OutboxBackpressure | null =>
        options.outbox?.backpressure
          ? new OutboxBackpressure(options.outbox.store, options.outbox.backpressure, () => relay?.stats().publishedPerSecond ?? 0)
          : null,
      inject: [EVENT_BUS_OPTIONS, OUTBOX_RELAY],
    },
    OutboxBackpressureGuard,
    EventHandlerExplorer,
    ProjectionExplorer,
    Projections,
    EventBus,
    EventBusHealth,
    EventBusMetrics,
    EventBusLifecycle,
  ],
  exports: [
    EventBus,
    Projections,
    EventBusHealth,
    EventBusMetrics,
    OutboxBackpressureGuard,
    EventTypeRegistry,
    EventEnveloper,
    EVENT_BUS_TRANSPORT,
    OUTBOX_RELAY,
    OUTBOX_BACKPRESSURE,
  ],
})
export class EventBusModule extends ConfigurableEventBusModule {}
