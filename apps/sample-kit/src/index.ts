export * from './config/env.js';
export * from './config/connections.config.js';
export * from './database/service-database.js';
export * from './database/service-database.module.js';
export * from './transport/sample-transport.js';
