import 'reflect-metadata';
import { serveSample } from '../../sample-kit/src/index.js';
import { notificationsConfigFromEnv } from './config/notifications.config.js';
import { NotificationsAppModule } from './notifications-app.module.js';

const config = notificationsConfigFromEnv();
const unregistered = config.unregisteredUsers.length > 0 ? config.unregisteredUsers.join(', ') : 'none';
await serveSample(
  'Notifications',
  NotificationsAppModule.forRoot(config),
  config.port,
  `schema ${config.schema}; push failure rate ${config.failureRate}, users without a device: ${unregistered}; ` +
    `${config.maxAttempts} attempts per answer`,
);
