export * from './module/event-bus.module.js';
export * from './module/event-bus.options.js';
export {
  EVENT_BUS_OPTIONS,
  EVENT_BUS_TRANSPORT,
  OUTBOX_BACKPRESSURE,
  OUTBOX_RELAY,
  type EventBusModuleExtras,
} from './module/event-bus.module-definition.js';
export * from './decorators/on-event.decorator.js';
export * from './publishing/event-bus.js';
export type { HandlerDescriptor } from './discovery/handler.descriptor.js';
export { planSubscriptions, type PlannedSubscription } from './discovery/subscription.planner.js';
export * from './health/event-bus.health.js';
export * from './health/event-bus-health.report.js';
export * from './metrics/event-bus.metrics.js';
export * from './publishing/outbox-backpressure.guard.js';
export * from './projection/projection.decorator.js';
export * from './projection/projections.js';
export type { DiscoveredProjection } from './projection/projection.explorer.js';
