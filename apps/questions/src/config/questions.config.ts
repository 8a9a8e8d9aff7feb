import { connectionsConfigFromEnv, envInteger, envString, type ConnectionsConfig } from '../../../sample-kit/src/index.js';

/** How the questions service runs; every value has a default that works on a machine of this project. */
export interface QuestionsConfig extends ConnectionsConfig {
  /** `QUESTIONS_PORT`. @default 3001 */
  readonly port: number;
  /** `QUESTIONS_SCHEMA`: the PostgreSQL schema holding this service's tables. @default 'questions' */
  readonly schema: string;
}

/** Reads the configuration from the environment. */
export function questionsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): QuestionsConfig {
  return {
    ...connectionsConfigFromEnv(env),
    port: envInteger(env, 'QUESTIONS_PORT', 3001),
    schema: envString(env, 'QUESTIONS_SCHEMA', 'questions'),
  };
}
