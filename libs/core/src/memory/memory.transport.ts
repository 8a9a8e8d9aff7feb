import { encodeEnvelope } from '../decoding/envelope.codec.js';
import type { Envelope } from '../envelope/envelope.js';
import { TransportStateError } from '../errors/transport-state.error.js';
import { tierAtLeast } from '../retry/delay-tier.js';
import type { DeliverFn } from '../transport/delivery-outcome.js';
import type { EventLog } from '../transport/event-log.js';
import type { Subscription } from '../transport/subscription.js';
import type { TransportHealth } from '../transport/transport-health.js';
import type { Transport } from '../transport/transport.js';
import { MemoryBroker, type MemoryBrokerOptions } from './memory.broker.js';
import type { MemoryConsumer, MemoryQueue } from './memory.queue.js';

/** Options of a {@link MemoryTransport}. */
export interface MemoryTransportOptions {
  /** The broker to connect to; share one between transports to model several processes or services. @default a new broker */
  readonly broker?: MemoryBroker;
  /** Options of the broker created when none is given. */
  readonly brokerOptions?: MemoryBrokerOptions;
}

type State = 'stopped' | 'started' | 'stopping';

interface Registration {
  readonly subscription: Subscription;
  readonly deliver: DeliverFn;
  readonly queue: MemoryQueue;
  consumer?: MemoryConsumer;
}

/**
 * The in-memory {@link Transport}: the zero-infrastructure mode of the demo and the transport of
 * users' tests. It honours the same contract as the broker transports (routing, competing
 * consumers, retries through the subscription's tiers, dead letters, event log), without persistence.
 */
export class MemoryTransport implements Transport {
  readonly name = 'memory';
  readonly broker: MemoryBroker;
  private state: State = 'stopped';
  private stopping: Promise<void> | undefined;
  private readonly registrations: Registration[] = [];

  constructor(options: MemoryTransportOptions = {}) {
    this.broker = options.broker ?? new MemoryBroker(options.brokerOptions);
  }

  get eventLog(): EventLog | undefined {
    return this.broker.eventLog;
  }

  health(): TransportHealth {
    return { healthy: this.state === 'started', detail: `memory transport ${this.state}` };
  }

  start(): Promise<void> {
    if (this.state === 'stopping') return Promise.reject(new TransportStateError(this.name, 'start', this.state));
    this.state = 'started';
    for (const registration of this.registrations) this.attach(registration);
    return Promise.resolve();
  }

  stop(): Promise<void> {
    // A second caller while stopping waits for the same drain instead of returning early.
    if (this.stopping) return this.stopping;
    if (this.state !== 'started') return Promise.resolve();
    this.state = 'stopping';
    this.stopping = Promise.all(this.registrations.map((r) => this.detach(r)))
      .then(() => undefined)
      .finally(() => {
        this.state = 'stopped';
        this.stopping = undefined;
      });
    return this.stopping;
  }

  publish(envelopes: readonly Envelope[]): Promise<void> {
    // While stopping, in-flight handlers are draining and may still publish their follow-up events.
    if (this.state === 'stopped') return Promise.reject(new TransportStateError(this.name, 'publish', this.state));
    try {
      this.broker.publish(envelopes.map((envelope) => encodeEnvelope(envelope)));
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Declares the subscription's queue at once (so later publishes are kept) and consumes while started. */
  subscribe(subscription: Subscription, deliver: DeliverFn): Promise<void> {
    if (this.state === 'stopping') return Promise.reject(new TransportStateError(this.name, 'subscribe', this.state));
    const registration: Registration = { subscription, deliver, queue: this.broker.declareQueue(subscription.name, subscription.patterns) };
    this.registrations.push(registration);
    if (this.state === 'started') this.attach(registration);
    return Promise.resolve();
  }

  private attach(registration: Registration): void {
    if (registration.consumer) return;
    const { prefetch, concurrency, retryTiersMs } = registration.subscription;
    // Realise retries on the subscription's tiers only, as a broker with one delay queue per tier must.
    const deliver: DeliverFn = async (message) => {
      const outcome = await registration.deliver(message);
      return outcome.kind === 'retry' ? { ...outcome, delayMs: tierAtLeast(retryTiersMs, outcome.delayMs) } : outcome;
    };
    registration.consumer = registration.queue.addConsumer(deliver, Math.min(prefetch, concurrency));
  }

  private async detach(registration: Registration): Promise<void> {
    const consumer = registration.consumer;
    if (!consumer) return;
    delete registration.consumer;
    await registration.queue.removeConsumer(consumer);
  }
}
