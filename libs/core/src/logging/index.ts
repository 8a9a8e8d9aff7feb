export * from './tidings-logger.js';
