import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { notificationsConfigFromEnv } from './config/notifications.config.js';
import { NotificationsAppModule } from './notifications-app.module.js';

const config = notificationsConfigFromEnv();
const app = await NestFactory.create(NotificationsAppModule.forRoot(config));
app.enableShutdownHooks();
await app.listen(config.port, '127.0.0.1');
const unregistered = config.unregisteredUsers.length > 0 ? config.unregisteredUsers.join(', ') : 'none';
new Logger('Notifications').log(
  `notifications service on http://127.0.0.1:${config.port} (schema ${config.schema}); push failure rate ${config.failureRate}, ` +
    `users without a device: ${unregistered}; ${config.maxAttempts} attempts per answer`,
);
