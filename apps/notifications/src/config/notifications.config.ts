import { ConfigurationError } from '@tidings/core';
import { connectionsConfigFromEnv, envFraction, envInteger, envString, type ConnectionsConfig } from '../../../sample-kit/src/index.js';

/** How the notifications service runs; every value has a default that works on a machine of this project. */
export interface NotificationsConfig extends ConnectionsConfig {
  /** `NOTIFICATIONS_PORT`. @default 3003 */
  readonly port: number;
  /** `NOTIFICATIONS_SCHEMA`: the PostgreSQL schema holding this service's tables. @default 'notifications' */
  readonly schema: string;
  /** `NOTIFY_FAILURE_RATE`: the share of pushes the simulated provider fails with a transient error, from 0 to 1. @default 0 */
  readonly failureRate: number;
  /**
   * `NOTIFY_UNREGISTERED_USERS`: comma-separated ids of users without a registered device; a push to them fails for good,
   * so their notifications are dead-lettered at once. @default none
   */
  readonly unregisteredUsers: readonly string[];
  /** `NOTIFY_MAX_ATTEMPTS`: attempts per answer, the first one included, before its message is dead-lettered. @default 4 */
  readonly maxAttempts: number;
  /** `NOTIFY_RETRY_DELAY_MS`: the delay before the first retry; later retries wait 3× and then 9× as long. @default 1000 */
  readonly retryDelayMs: number;
}

/** Reads the configuration from the environment. */
export function notificationsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): NotificationsConfig {
  return {
    ...connectionsConfigFromEnv(env),
    port: envInteger(env, 'NOTIFICATIONS_PORT', 3003),
    schema: envString(env, 'NOTIFICATIONS_SCHEMA', 'notifications'),
    failureRate: envFraction(env, 'NOTIFY_FAILURE_RATE', 0),
    unregisteredUsers: envList(env, 'NOTIFY_UNREGISTERED_USERS'),
    maxAttempts: atLeastOne('NOTIFY_MAX_ATTEMPTS', envInteger(env, 'NOTIFY_MAX_ATTEMPTS', 4)),
    retryDelayMs: atLeastOne('NOTIFY_RETRY_DELAY_MS', envInteger(env, 'NOTIFY_RETRY_DELAY_MS', 1000)),
  };
}

/** A comma-separated list; blanks around and between the commas are ignored. */
function envList(env: NodeJS.ProcessEnv, name: string): string[] {
  return envString(env, name, '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

// envInteger accepts 0, which means nothing here: no attempt at all, or a delay queue without a delay.
function atLeastOne(name: string, value: number): number {
  if (value < 1) throw new ConfigurationError(`${name} must be 1 or more, got ${value}`, `Fix ${name} or unset it to use the default.`);
  return value;
}
