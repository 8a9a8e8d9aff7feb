import { Logger, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { EventEnveloper, EventTypeRegistry, OutboxRelay, type Transport } from '@tidings/core';
import { EventHandlerExplorer } from '../discovery/event-handler.explorer.js';
import { EventBus } from '../publishing/event-bus.js';
import { EventBusLifecycle } from './event-bus.lifecycle.js';
import { ConfigurableEventBusModule, EVENT_BUS_OPTIONS, EVENT_BUS_TRANSPORT, OUTBOX_RELAY } from './event-bus.module-definition.js';
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
    EventHandlerExplorer,
    EventBus,
    EventBusLifecycle,
  ],
  exports: [EventBus, EventTypeRegistry, EventEnveloper, EVENT_BUS_TRANSPORT, OUTBOX_RELAY],
})
export class EventBusModule extends ConfigurableEventBusModule {}
