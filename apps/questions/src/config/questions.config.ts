import { connectionsConfigFromEnv, envInteger, envString, type ConnectionsConfig } from '../../../sample-kit/src/index.js';

/** How the questions service runs; every value has a default that works on a machine of this project. */
export interface QuestionsConfig extends ConnectionsConfig {
  /** `QUESTIONS_PORT`. @default 3001 */
  readonly port: number;
  /** `QUESTIONS_SCHEMA`: the PostgreSQL schema holding this service's tables. @default 'questions' */
  readonly schema: string;
  /**
   * `QUESTIONS_MAX_OUTBOX_BACKLOG`: events waiting to be published above which commands are answered 503 with
   * `Retry-After` (while the broker is away, say), instead of letting the backlog grow without limit. @default 10000
   */
  readonly maxOutboxBacklog: number;
}

/** Reads the configuration from the environment. */
export function questionsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): QuestionsConfig {
  return {
    ...connectionsConfigFromEnv(env),
    port: envInteger(env, 'QUESTIONS_PORT', 3001),
    schema: envString(env, 'QUESTIONS_SCHEMA', 'questions'),
    maxOutboxBacklog: envInteger(env, 'QUESTIONS_MAX_OUTBOX_BACKLOG', 10_000),
  };
}
