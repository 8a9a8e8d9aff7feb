export * from './group-commit.options.js';
export * from './delivery-grouper.js';
export * from './inbox-group-commit.js';
