export * from './topic-pattern.js';
