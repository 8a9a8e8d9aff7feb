import { ConfigurationError, DEFAULT_MAX_MESSAGE_BYTES, resolveGroupCommitOptions } from '@tidings/core';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_PREFETCH,
  type EventBusModuleOptions,
  type ResolvedSubscriptionDefaults,
  type SubscriptionDefaults,
} from './event-bus.options.js';

/** A service or subscription name: it becomes part of queue names. */
export const NAME_FORMAT = /^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$/;

/** Fails unless `value` is a whole number from 1; `where` names the option for the message. */
export function requirePositiveInteger(value: number, where: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigurationError(`${where} must be a whole number from 1, got ${String(value)}`, `Fix ${where}.`, { where, value });
  }
  return value;
}

/** Checks prefetch and concurrency together: a consumer cannot run more deliveries than it holds. */
export function checkFlowControl(prefetch: number, concurrency: number, where: string): void {
  requirePositiveInteger(prefetch, `${where} prefetch`);
  requirePositiveInteger(concurrency, `${where} concurrency`);
  if (concurrency > prefetch) {
    throw new ConfigurationError(
      `${where}: concurrency ${concurrency} is above prefetch ${prefetch}`,
      'A consumer cannot handle more messages at once than the broker gives it: lower concurrency or raise prefetch.',
      { where, prefetch, concurrency },
    );
  }
}

/** Validates module options at startup; every message names the option at fault. */
export function validateModuleOptions(options: EventBusModuleOptions): { defaults: ResolvedSubscriptionDefaults; maxMessageBytes: number } {
  if (typeof options.service !== 'string' || !NAME_FORMAT.test(options.service)) {
    throw new ConfigurationError(
      `EventBusModule option 'service' is invalid: ${JSON.stringify(options.service)}`,
      "Name the service in lower-case words, e.g. 'questions' or 'billing-api'; it prefixes every queue.",
    );
  }
  const transport = options.transport as Partial<EventBusModuleOptions['transport']> | undefined;
  if (!transport || typeof transport.publish !== 'function' || typeof transport.subscribe !== 'function') {
    throw new ConfigurationError(
      "EventBusModule option 'transport' is missing or is not a Transport",
      "Pass an instance, e.g. transport: new MemoryTransport() from '@tidings/core'.",
    );
  }
  const given: SubscriptionDefaults = options.defaults ?? {};
  const defaults: ResolvedSubscriptionDefaults = {
    ...(given.prefetch !== undefined && { prefetch: given.prefetch }),
    ...(given.concurrency !== undefined && { concurrency: given.concurrency }),
    groupCommit: given.groupCommit ?? {},
    retry: given.retry ?? {},
    retryOn: given.retryOn ?? [],
    deadLetterOn: given.deadLetterOn ?? [],
    transactional: given.transactional ?? false,
  };
  const prefetch = given.prefetch ?? DEFAULT_PREFETCH;
  checkFlowControl(prefetch, given.concurrency ?? Math.min(DEFAULT_CONCURRENCY, prefetch), "EventBusModule option 'defaults'");
  if (given.groupCommit) resolveGroupCommitOptions(given.groupCommit, "EventBusModule option 'defaults.groupCommit'");
  const maxMessageBytes = requirePositiveInteger(
    options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    "EventBusModule option 'maxMessageBytes'",
  );
  return { defaults, maxMessageBytes };
}
