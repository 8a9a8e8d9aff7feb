export * from './projected-event.js';
export * from './projection.definition.js';
export * from './projection.store.js';
export * from './projection.runner.js';
export * from './projection.rebuild.js';
export * from './projection-rebuild.error.js';
export * from './rebuild-progress.js';
export { LogEntryResolver, type ResolvedEntry } from './log-entry.resolver.js';
