export * from './outbox.store.js';
export * from './outbox-relay.js';
export * from './outbox-relay.options.js';
export * from './publish-waves.js';
export * from './claim-publisher.js';
export * from './relay-backoff.js';
export * from './outbox-backpressure.js';
