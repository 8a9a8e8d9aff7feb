import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { TransactionContext, TypeOrmOutboxStore } from '@tidings/typeorm';
import { DataSource } from 'typeorm';
import type { QuestionsConfig } from '../config/questions.config.js';
import { openQuestionsDatabase } from './questions-database.js';

export const QUESTIONS_SCHEMA = Symbol('questions:schema');

/** Closes the pool after the event bus has drained (Nest calls shutdown hooks after module destroy). */
@Injectable()
class DatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** The write model's database: the DataSource (migrated at start), its transaction context and its outbox store. */
@Global()
@Module({})
export class QuestionsDatabaseModule {
  static forRoot(config: QuestionsConfig): DynamicModule {
    return {
      module: QuestionsDatabaseModule,
      providers: [
        { provide: DataSource, useFactory: () => openQuestionsDatabase(config) },
        { provide: TransactionContext, useFactory: (ds: DataSource) => new TransactionContext(ds), inject: [DataSource] },
        {
          provide: TypeOrmOutboxStore,
          useFactory: (ds: DataSource) => new TypeOrmOutboxStore(ds, { schema: config.schema }),
          inject: [DataSource],
        },
        { provide: QUESTIONS_SCHEMA, useValue: config.schema },
        DatabaseCloser,
      ],
      exports: [DataSource, TransactionContext, TypeOrmOutboxStore, QUESTIONS_SCHEMA],
    };
  }
}
