export * from './envelope.js';
export * from './envelope.factory.js';
