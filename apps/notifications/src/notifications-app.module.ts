import { Module, type DynamicModule } from '@nestjs/common';
import type { Transport } from '@tidings/core';
import { EventBusModule } from '@tidings/nestjs';
import { createInboxMigration, TypeOrmInboxStore } from '@tidings/typeorm';
import {
  ObservabilityModule,
  inboxStoreProvider,
  sampleTransport,
  serviceName,
  ServiceDatabaseModule,
} from '../../sample-kit/src/index.js';
import type { NotificationsConfig } from './config/notifications.config.js';
import { notifyRetryOptions } from './config/retry-schedule.js';
import { createNotificationsMigration } from './database/notifications.migration.js';
import { NotificationsController } from './http/notifications.controller.js';
import { LearnAskers } from './notifying/learn-askers.handler.js';
import { NotificationRows } from './notifying/notification.rows.js';
import { NotifyAsker } from './notifying/notify-asker.handler.js';
import { PushProvider } from './push/push-provider.js';
import { SimulatedPushProvider } from './push/simulated-push.provider.js';

/** Options for tests and the zero-infrastructure demo. */
export interface NotificationsAppOptions {
  /** Another transport than RabbitMQ. */
  readonly transport?: Transport;
  /** Another push provider than the simulated one the configuration describes (a test's, with a seeded random). */
  readonly push?: PushProvider;
}

/**
 * The notifications service: learns askers from `qa.question.asked`, pushes to the asker on `qa.answer.added`, and
 * lists what was delivered. Both subscriptions run through the inbox, so each event's effect happens once; failures
 * retry on a short schedule from the configuration, then go to the subscription's dead-letter queue.
 */
@Module({})
export class NotificationsAppModule {
  static forRoot(config: NotificationsConfig, options: NotificationsAppOptions = {}): DynamicModule {
    const transport = options.transport ?? sampleTransport(config, 'notifications');
    const push =
      options.push ?? new SimulatedPushProvider({ failureRate: config.failureRate, unregisteredUsers: config.unregisteredUsers });
    return {
      module: NotificationsAppModule,
      imports: [
        ServiceDatabaseModule.forRoot(
          {
            service: 'notifications',
            databaseUrl: config.databaseUrl,
            schema: config.schema,
            migrations: [createNotificationsMigration(config.schema), createInboxMigration({ schema: config.schema })],
          },
          // Handlers push to phones, outside the transaction: a savepoint per delivery from the start, so a failing push
          // never makes the rest of its group run (and push) a second time.
          [inboxStoreProvider(config.schema, { savepoints: 'always' })],
        ),
        EventBusModule.forRootAsync({
          useFactory: (inbox: TypeOrmInboxStore) => ({
            service: serviceName(config, 'notifications'),
            transport,
            inbox,
            defaults: { retry: notifyRetryOptions(config) },
          }),
          inject: [TypeOrmInboxStore],
        }),
        ObservabilityModule,
      ],
      controllers: [NotificationsController],
      providers: [{ provide: PushProvider, useValue: push }, NotificationRows, LearnAskers, NotifyAsker],
    };
  }
}
