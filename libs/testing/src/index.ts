export * from './event-bus.test-harness.js';
export * from './tracked-session.js';
