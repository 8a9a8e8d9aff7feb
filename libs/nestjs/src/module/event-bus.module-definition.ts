import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { EventBusModuleOptions } from './event-bus.options.js';

/** Extra options of `forRoot`/`forRootAsync` that shape the module rather than the bus. */
export interface EventBusModuleExtras {
  /** Make `EventBus` injectable everywhere without importing the module again. @default true */
  readonly isGlobal?: boolean;
}

export const {
  ConfigurableModuleClass: ConfigurableEventBusModule,
  MODULE_OPTIONS_TOKEN: EVENT_BUS_OPTIONS,
  OPTIONS_TYPE: EVENT_BUS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: EVENT_BUS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<EventBusModuleOptions>({ moduleName: 'EventBus' })
  .setClassMethodName('forRoot')
  .setExtras<EventBusModuleExtras>({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal ?? true }))
  .build();

/**
 * Injection token of the module's `Transport` (by default `options.transport`). Override it in tests
 * (`overrideProvider(EVENT_BUS_TRANSPORT).useValue(...)`) to run an application module on another transport.
 */
export const EVENT_BUS_TRANSPORT = Symbol('tidings:event-bus-transport');

/**
 * Injection token of the module's `OutboxRelay`, or `null` when the module runs none (no `outbox`
 * option). Health checks and metrics read its `stats()` and `lag()`.
 */
export const OUTBOX_RELAY = Symbol('tidings:outbox-relay');

/**
 * Injection token of the module's `OutboxBackpressure`, or `null` when `outbox.backpressure` is not set.
 * `OutboxBackpressureGuard` reads it.
 */
export const OUTBOX_BACKPRESSURE = Symbol('tidings:outbox-backpressure');
