import { Global, Inject, Injectable, Module, type DynamicModule, type FactoryProvider, type OnApplicationShutdown } from '@nestjs/common';
import { TransactionContext } from '@tidings/typeorm';
import { DataSource } from 'typeorm';
import { openServiceDatabase, type ServiceDatabaseOptions } from './service-database.js';

/** Injection token of the service's PostgreSQL schema name. */
export const SERVICE_SCHEMA = Symbol('sample:service-schema');

/** Closes the pool after the event bus has drained (Nest calls shutdown hooks after module destroy). */
@Injectable()
class DatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** A sample service's database, global: the DataSource (migrated at start), its transaction context and its schema name. */
@Global()
@Module({})
export class ServiceDatabaseModule {
  /**
   * @param stores providers built on the DataSource (the service's outbox or inbox store), exported with it so
   *   that `EventBusModule.forRootAsync` can inject them.
   */
  static forRoot(options: ServiceDatabaseOptions, stores: readonly FactoryProvider[] = []): DynamicModule {
    return {
      module: ServiceDatabaseModule,
      providers: [
        { provide: DataSource, useFactory: () => openServiceDatabase(options) },
        { provide: TransactionContext, useFactory: (ds: DataSource) => new TransactionContext(ds), inject: [DataSource] },
        { provide: SERVICE_SCHEMA, useValue: options.schema },
        DatabaseCloser,
        ...stores,
      ],
      exports: [DataSource, TransactionContext, SERVICE_SCHEMA, ...stores.map((store) => store.provide)],
    };
  }
}
