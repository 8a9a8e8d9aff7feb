import { envString } from './env.js';

/** Where a sample service finds PostgreSQL and RabbitMQ; the defaults are the services of this project's machines. */
export interface ConnectionsConfig {
  /** `DATABASE_URL`. @default postgres://postgres@127.0.0.1:5432/test */
  readonly databaseUrl: string;
  /** `RABBITMQ_URL`. @default amqp://guest:guest@127.0.0.1:5672 */
  readonly rabbitMqUrl: string;
  /** `RABBITMQ_EXCHANGE`: the topic exchange the services share. @default tidings.events */
  readonly exchange: string;
  /**
   * `TIDINGS_NAMESPACE`: put before each service name (and so before its queue names), so that several copies of the
   * sample (end-to-end tests running side by side) share a broker without sharing queues. @default '' (none)
   */
  readonly namespace: string;
}

/** Reads {@link ConnectionsConfig} from the environment. */
export function connectionsConfigFromEnv(env: NodeJS.ProcessEnv): ConnectionsConfig {
  return {
    databaseUrl: envString(env, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/test'),
    rabbitMqUrl: envString(env, 'RABBITMQ_URL', 'amqp://guest:guest@127.0.0.1:5672'),
    exchange: envString(env, 'RABBITMQ_EXCHANGE', 'tidings.events'),
    namespace: envString(env, 'TIDINGS_NAMESPACE', ''),
  };
}
