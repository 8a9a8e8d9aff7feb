import { ConfigurationError } from '../errors/configuration.error.js';
import type { TidingsLogger } from '../logging/tidings-logger.js';
import type { RelayBackoffOptions } from './relay-backoff.js';

/** Options of an {@link OutboxRelay}. */
export interface OutboxRelayOptions {
  /** Records claimed and published together. @default 500 */
  readonly batchSize?: number;
  /**
   * Claims being published at once, each in its own database transaction: while one awaits the
   * broker's confirms the next is claimed, so the database and the broker work at the same time.
   * @default 4
   */
  readonly batchesInFlight?: number;
  /** Poll period when nothing wakes the relay (no NOTIFY behind a pooler, scheduled records). @default 1000 */
  readonly pollIntervalMs?: number;
  /** Listen for the store's wake-ups (PostgreSQL NOTIFY). Turn off behind a transaction pooler. @default true */
  readonly listen?: boolean;
  /** Pauses after failures (broker or database down). */
  readonly backoff?: RelayBackoffOptions;
  /** How often published records past the store's retention are purged, if the store keeps them. @default 60000 */
  readonly purgeIntervalMs?: number;
  /** Records deleted per purge statement. @default 5000 */
  readonly purgeBatchSize?: number;
  /** How long `stop()` waits for the claims in hand before releasing them. @default 10000 */
  readonly stopTimeoutMs?: number;
  /** @default console */
  readonly logger?: TidingsLogger;
}

export type ResolvedRelayOptions = Required<Omit<OutboxRelayOptions, 'backoff'>> & Pick<OutboxRelayOptions, 'backoff'>;

export function resolveRelayOptions(options: OutboxRelayOptions): ResolvedRelayOptions {
  const resolved: ResolvedRelayOptions = {
    batchSize: options.batchSize ?? 500,
    batchesInFlight: options.batchesInFlight ?? 4,
    pollIntervalMs: options.pollIntervalMs ?? 1000,
    listen: options.listen ?? true,
    purgeIntervalMs: options.purgeIntervalMs ?? 60_000,
    purgeBatchSize: options.purgeBatchSize ?? 5000,
    stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
    logger: options.logger ?? console,
    ...(options.backoff && { backoff: options.backoff }),
  };
  for (const name of ['batchSize', 'batchesInFlight', 'pollIntervalMs', 'purgeIntervalMs', 'purgeBatchSize'] as const) {
    const value = resolved[name];
    if (!Number.isInteger(value) || value < 1) {
      throw new ConfigurationError(
        `OutboxRelay option ${name} must be a positive integer, got ${String(value)}`,
        `Set ${name} to 1 or more.`,
        {
          option: name,
        },
      );
    }
  }
  return resolved;
}
