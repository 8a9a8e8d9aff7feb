import { Module, type DynamicModule } from '@nestjs/common';
import type { Transport } from '@tidings/core';
import { EventBusModule } from '@tidings/nestjs';
import { createInboxMigration, TypeOrmInboxStore } from '@tidings/typeorm';
import type { FeedConfig } from './config/feed.config.js';
import {
  inboxStoreProvider,
  ObservabilityModule,
  sampleTransport,
  serviceName,
  ServiceDatabaseModule,
} from '../../sample-kit/src/index.js';
import { AfterCommitInbox } from './database/after-commit.inbox.js';
import { createFeedMigration } from './database/feed.migration.js';
import { FeedController } from './http/feed.controller.js';
import { FeedReads } from './http/feed.reads.js';
import { OpenStreams } from './http/open-streams.js';
import { FeedPageController } from './page/feed-page.controller.js';
import { FeedChanges } from './projection/feed-changes.js';
import { FeedProjection } from './projection/feed.projection.js';
import { FeedWrites } from './projection/feed.writes.js';

/** Options for tests and the zero-infrastructure demo: another transport than RabbitMQ. */
export interface FeedAppOptions {
  readonly transport?: Transport;
}

/**
 * The feed service: the read model of the question feed in PostgreSQL, kept by idempotent, order-independent
 * handlers of the questions service's events (through the inbox), served as `GET /feed`, streamed as
 * `GET /feed/stream` and shown live on the page at `GET /`.
 */
@Module({})
export class FeedAppModule {
  static forRoot(config: FeedConfig, options: FeedAppOptions = {}): DynamicModule {
    const transport = options.transport ?? sampleTransport(config, 'feed');
    return {
      module: FeedAppModule,
      imports: [
        ServiceDatabaseModule.forRoot(
          {
            service: 'feed',
            databaseUrl: config.databaseUrl,
            schema: config.schema,
            migrations: [createFeedMigration(config.schema), createInboxMigration({ schema: config.schema })],
          },
          [
            inboxStoreProvider(config.schema),
            {
              provide: AfterCommitInbox,
              useFactory: (inbox: TypeOrmInboxStore) => new AfterCommitInbox(inbox),
              inject: [TypeOrmInboxStore],
            },
          ],
        ),
        EventBusModule.forRootAsync({
          useFactory: (inbox: AfterCommitInbox) => ({ service: serviceName(config, 'feed'), transport, inbox }),
          inject: [AfterCommitInbox],
        }),
        ObservabilityModule,
      ],
      controllers: [FeedController, FeedPageController],
      providers: [FeedChanges, FeedWrites, FeedReads, FeedProjection, OpenStreams],
    };
  }
}
