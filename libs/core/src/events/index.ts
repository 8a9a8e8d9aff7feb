export * from './event-schema.js';
export * from './integration-event.decorator.js';
export * from './event-type.registry.js';
export * from './event-data.validator.js';
export * from './event-upcasting.js';
