export * from './conformance.target.js';
export * from './transport.conformance.js';
export { Latch } from './latch.js';
export { Gate } from './gate.js';
export { eventually, type EventuallyOptions } from './eventually.js';
export { withDeadline } from './deadline.js';
