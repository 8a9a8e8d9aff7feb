import { ConfigurationError } from '@tidings/core';

/** How the questions service runs; every value has a default that works on a machine of this project. */
export interface QuestionsConfig {
  /** `QUESTIONS_PORT`. @default 3001 */
  readonly port: number;
  /** `DATABASE_URL`. @default postgres://postgres@127.0.0.1:5432/test */
  readonly databaseUrl: string;
  /** `QUESTIONS_SCHEMA`: the PostgreSQL schema holding this service's tables. @default 'questions' */
  readonly schema: string;
  /** `RABBITMQ_URL`, or `memory` for the in-process transport. @default amqp://guest:guest@127.0.0.1:5672 */
  readonly rabbitMqUrl: string | 'memory';
}

const integer = (name: string, text: string | undefined, fallback: number): number => {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new ConfigurationError(`${name} must be a whole number, got '${text}'`, `Fix ${name}.`);
  return value;
};

/** Reads the configuration from the environment. */
export function questionsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): QuestionsConfig {
  return {
    port: integer('QUESTIONS_PORT', env['QUESTIONS_PORT'], 3001),
    databaseUrl: env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test',
    schema: env['QUESTIONS_SCHEMA'] ?? 'questions',
    rabbitMqUrl: env['RABBITMQ_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672',
  };
}
