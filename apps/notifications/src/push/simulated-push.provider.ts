import { ConfigurationError } from '@tidings/core';
import { PushProvider, type PushMessage } from './push-provider.js';
import { PushUnavailableError } from './push-unavailable.error.js';
import { UnknownDeviceError } from './unknown-device.error.js';

/** Options of {@link SimulatedPushProvider}. */
export interface SimulatedPushOptions {
  /** The share of pushes that fail with {@link PushUnavailableError}, from 0 to 1. @default 0 */
  readonly failureRate?: number;
  /** Users without a registered device: pushes to them fail with {@link UnknownDeviceError}. @default none */
  readonly unregisteredUsers?: Iterable<string>;
  /** Uniform random numbers in [0, 1): give a seeded one to make failures repeatable. @default Math.random */
  readonly random?: () => number;
}

/**
 * A push service for the demo: it delivers to memory, and fails on purpose. A push to a user without a device fails
 * for good; any other push fails transiently with probability `failureRate` (one random draw per push to a known
 * device, so a seeded `random` fixes which sends fail).
 */
export class SimulatedPushProvider extends PushProvider {
  /** Pushes the provider accepted, in order; a redelivered message can appear twice (at-least-once). */
  readonly delivered: PushMessage[] = [];
  private calls = 0;
  private readonly failureRate: number;
  private readonly unregistered: ReadonlySet<string>;
  private readonly random: () => number;

  constructor(options: SimulatedPushOptions = {}) {
    super();
    this.failureRate = options.failureRate ?? 0;
    if (!(this.failureRate >= 0 && this.failureRate <= 1)) {
      throw new ConfigurationError(`failureRate must be from 0 to 1, got ${this.failureRate}`, 'Give a share of pushes, e.g. 0.3.');
    }
    this.unregistered = new Set(options.unregisteredUsers ?? []);
    this.random = options.random ?? Math.random;
  }

  /** Calls of `send`, failed ones included. */
  get attempts(): number {
    return this.calls;
  }

  send(push: PushMessage): Promise<void> {
    this.calls += 1;
    // The device lookup comes first: a user without one fails the same way on every attempt, however flaky the service.
    if (this.unregistered.has(push.userId)) return Promise.reject(new UnknownDeviceError(push.userId));
    if (this.random() < this.failureRate) return Promise.reject(new PushUnavailableError(push.userId));
    this.delivered.push(push);
    return Promise.resolve();
  }
}
