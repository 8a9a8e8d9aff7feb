import { Module, type DynamicModule } from '@nestjs/common';
import type { Transport } from '@tidings/core';
import { EventBusModule } from '@tidings/nestjs';
import { TransactionContext, TypeOrmProjectionStore } from '@tidings/typeorm';
import { DataSource } from 'typeorm';
import type { FeedConfig } from './config/feed.config.js';
import { ObservabilityModule, sampleTransport, serviceName, ServiceDatabaseModule } from '../../sample-kit/src/index.js';
import { FeedController } from './http/feed.controller.js';
import { FeedReads } from './http/feed.reads.js';
import { OpenStreams } from './http/open-streams.js';
import { ProjectionAdminController } from './http/projection-admin.controller.js';
import { FeedPageController } from './page/feed-page.controller.js';
import { FeedBatchWrites } from './projection/feed.batch-writes.js';
import { FeedChanges } from './projection/feed-changes.js';
import { FeedProjection } from './projection/feed.projection.js';
import { FeedWrites } from './projection/feed.writes.js';

/** Options for tests and the zero-infrastructure demo: another transport than RabbitMQ. */
export interface FeedAppOptions {
  readonly transport?: Transport;
  /**
   * Whether to follow the event log (and serve). `false` for the `tidings` CLI, which only rebuilds. @default true
   */
  readonly consume?: boolean;
}

/**
 * The feed service: the read model of the question feed in PostgreSQL, a projection of the questions service's events
 * read from the event log (the RabbitMQ stream), served as `GET /feed`, streamed as `GET /feed/stream`, shown live on
 * the page at `GET /`, and rebuilt from the whole log on demand (`POST /admin/projections/feed/rebuild` or
 * `npm run tidings -- projection rebuild feed`) while it keeps serving.
 */
@Module({})
export class FeedAppModule {
  static forRoot(config: FeedConfig, options: FeedAppOptions = {}): DynamicModule {
    const transport = options.transport ?? sampleTransport(config, 'feed', { eventLog: true });
    return {
      module: FeedAppModule,
      imports: [
        // No migrations: the projection store creates the read model (in FEED_SCHEMA) and its copies.
        ServiceDatabaseModule.forRoot({ service: 'feed', databaseUrl: config.databaseUrl, schema: config.schema, migrations: [] }),
        EventBusModule.forRootAsync({
          useFactory: (dataSource: DataSource, transactions: TransactionContext) => ({
            service: serviceName(config, 'feed'),
            transport,
            consume: options.consume ?? true,
            projections: {
              store: (projection: string) => new TypeOrmProjectionStore(dataSource, { projection, schema: config.schema, transactions }),
            },
          }),
          inject: [DataSource, TransactionContext],
        }),
        ObservabilityModule,
      ],
      controllers: [FeedController, FeedPageController, ProjectionAdminController],
      providers: [FeedChanges, FeedWrites, FeedBatchWrites, FeedReads, FeedProjection, OpenStreams],
    };
  }
}
