export * from './qa-fields.js';
export * from './question-asked.event.js';
export * from './answer-added.event.js';
export * from './answer-accepted.event.js';
