export * from './safe-json.js';
export * from './envelope.codec.js';
