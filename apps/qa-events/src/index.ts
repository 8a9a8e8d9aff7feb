export * from './qa-subjects.js';
export * from './question-asked.event.js';
export * from './answer-added.event.js';
export * from './answer-accepted.event.js';
