export * from './transport-message.js';
export * from './delivery-outcome.js';
export * from './subscription.js';
export * from './event-log.js';
export * from './transport.js';
export * from './delivery-failure.js';
export * from './transport-health.js';
