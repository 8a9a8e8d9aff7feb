import { connectionsConfigFromEnv, envInteger, envString, type ConnectionsConfig } from '../../../sample-kit/src/index.js';

/** How the feed service runs; every value has a default that works on a machine of this project. */
export interface FeedConfig extends ConnectionsConfig {
  /** `FEED_PORT`. @default 3002 */
  readonly port: number;
  /** `FEED_SCHEMA`: the PostgreSQL schema holding this service's tables (the live copy of the read model; rebuilds use `<schema>__rebuild`). @default 'feed' */
  readonly schema: string;
}

/** Reads the configuration from the environment. */
export function feedConfigFromEnv(env: NodeJS.ProcessEnv = process.env): FeedConfig {
  return {
    ...connectionsConfigFromEnv(env),
    port: envInteger(env, 'FEED_PORT', 3002),
    schema: envString(env, 'FEED_SCHEMA', 'feed'),
  };
}
