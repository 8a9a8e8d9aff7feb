export * from './inbox/inbox-table.js';
export * from './inbox/inbox.migration.js';
export * from './inbox/typeorm-inbox.store.js';
