export * from './config/env.js';
export * from './config/connections.config.js';
export * from './database/service-database.js';
export * from './database/service-database.module.js';
export * from './transport/sample-transport.js';
export * from './observability/database.health.js';
export * from './observability/health.controller.js';
export * from './observability/observability.module.js';
