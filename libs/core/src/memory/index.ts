export * from './memory.broker.js';
export * from './memory.transport.js';
export type { MemoryDeadLetter } from './memory.dead-letter.store.js';
export type { MemoryEventLog } from './memory.event-log.js';
export type { QueuedMessage } from './memory.queue.js';
