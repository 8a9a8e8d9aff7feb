export * from './envelope.js';
export * from './envelope.factory.js';
export * from './event-enveloper.js';
export * from './serialized-data.js';
