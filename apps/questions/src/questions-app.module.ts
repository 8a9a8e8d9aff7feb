import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { EventEnveloper, type Transport } from '@tidings/core';
import { EventBusModule } from '@tidings/nestjs';
import { createOutboxMigrations, TransactionContext, TypeOrmOutbox, TypeOrmOutboxStore } from '@tidings/typeorm';
import { DataSource } from 'typeorm';
import type { QuestionsConfig } from './config/questions.config.js';
import { ObservabilityModule, sampleTransport, serviceName, ServiceDatabaseModule } from '../../sample-kit/src/index.js';
import { createQuestionsMigration } from './database/questions.migration.js';
import { AcceptAnswerHandler } from './questions/commands/accept-answer.command.js';
import { AddAnswerHandler } from './questions/commands/add-answer.command.js';
import { AskQuestionHandler } from './questions/commands/ask-question.command.js';
import { GetQuestionHandler } from './questions/queries/get-question.query.js';
import { QuestionRows } from './questions/question.rows.js';
import { QuestionsController } from './questions/questions.controller.js';

/** Options for tests and the zero-infrastructure demo: another transport than RabbitMQ. */
export interface QuestionsAppOptions {
  readonly transport?: Transport;
}

/**
 * The questions service: the write model in PostgreSQL, commands through @nestjs/cqrs, and every
 * state change committed together with its events in the outbox, which the module's relay publishes.
 */
@Module({})
export class QuestionsAppModule {
  static forRoot(config: QuestionsConfig, options: QuestionsAppOptions = {}): DynamicModule {
    const transport = options.transport ?? sampleTransport(config, 'questions', { eventLog: true });
    return {
      module: QuestionsAppModule,
      imports: [
        CqrsModule.forRoot(),
        ServiceDatabaseModule.forRoot(
          {
            service: 'questions',
            databaseUrl: config.databaseUrl,
            schema: config.schema,
            migrations: [createQuestionsMigration(config.schema), ...createOutboxMigrations({ schema: config.schema })],
          },
          [
            {
              provide: TypeOrmOutboxStore,
              useFactory: (ds: DataSource) => new TypeOrmOutboxStore(ds, { schema: config.schema }),
              inject: [DataSource],
            },
          ],
        ),
        EventBusModule.forRootAsync({
          useFactory: (store: TypeOrmOutboxStore) => ({
            service: serviceName(config, 'questions'),
            transport,
            outbox: { store, backpressure: { maxPending: config.maxOutboxBacklog } },
          }),
          inject: [TypeOrmOutboxStore],
        }),
        ObservabilityModule,
      ],
      controllers: [QuestionsController],
      providers: [
        {
          provide: TypeOrmOutbox,
          useFactory: (store: TypeOrmOutboxStore, enveloper: EventEnveloper, transactions: TransactionContext) =>
            new TypeOrmOutbox(store, enveloper, transactions),
          inject: [TypeOrmOutboxStore, EventEnveloper, TransactionContext],
        },
        QuestionRows,
        AskQuestionHandler,
        AddAnswerHandler,
        AcceptAnswerHandler,
        GetQuestionHandler,
      ],
    };
  }
}
