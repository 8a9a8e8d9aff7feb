import { createOutboxMigration } from '@tidings/typeorm';
import { DataSource } from 'typeorm';
import type { QuestionsConfig } from '../config/questions.config.js';
import { createQuestionsMigration } from './questions.migration.js';

/** Connects, creates the service's schema if needed and runs its migrations (the write model and the outbox). */
export async function openQuestionsDatabase(config: QuestionsConfig): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url: config.databaseUrl,
    schema: config.schema,
    poolSize: 10,
    migrations: [createQuestionsMigration(config.schema), createOutboxMigration({ schema: config.schema })],
    migrationsTableName: 'questions_migrations',
  });
  await dataSource.initialize();
  try {
    await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${config.schema}"`);
    await dataSource.runMigrations({ transaction: 'each' });
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
}
