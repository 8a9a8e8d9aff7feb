import { createEnvelope } from '../envelope/envelope.factory.js';
import type { Envelope } from '../envelope/envelope.js';
import type { EventSchema } from '../events/event-schema.js';
import { getEventDefinition, IntegrationEvent, type EventClass } from '../events/integration-event.decorator.js';
import type { EventHandlerFn, HandlerBinding } from '../pipeline/handler-binding.js';
import { HandlerPipeline } from '../pipeline/handler.pipeline.js';
import { ErrorClassifier } from '../retry/error.classifier.js';
import { RetryPolicy, type RetryOptions } from '../retry/retry.policy.js';
import { TopicPattern } from '../topic/topic-pattern.js';
import type { DeliverFn } from '../transport/delivery-outcome.js';
import type { Subscription } from '../transport/subscription.js';
import type { Transport } from '../transport/transport.js';
import type { ConformanceTarget, DeadLetterRecord, TransportFeatures } from './conformance.target.js';
import { eventually } from './eventually.js';
import type { TestApi } from './test-api.js';

/** Per-test timeout: a real broker takes milliseconds per delivery and the retry tiers are small. */
export const TEST_TIMEOUT_MS = 10_000;

/** Retry tiers of every subscription in the suite (real TTL queues on RabbitMQ, so kept short). */
export const SMALL_TIERS_MS: readonly number[] = [20, 50];

/** What every group of cases receives. */
export interface SuiteContext {
  readonly api: TestApi;
  readonly name: string;
  readonly features: TransportFeatures;
  /** The running test's fixture (made in `beforeEach`). */
  fixture(): ConformanceFixture;
}

/** Options of {@link ConformanceFixture.subscribe}. */
export interface SubscribeOptions {
  readonly handlers: readonly HandlerBinding[];
  /** Binding patterns. @default the handlers' event types and patterns */
  readonly patterns?: readonly string[];
  /** @default 1 */
  readonly concurrency?: number;
  /** @default 10 */
  readonly prefetch?: number;
  /** Wraps the pipeline's deliver function, to misbehave on purpose. */
  readonly wrapDeliver?: (deliver: DeliverFn) => DeliverFn;
}

/** `count` small payloads `{ n }`, numbered from `start`. */
export const payloads = (count: number, start = 0): { n: number }[] => Array.from({ length: count }, (_, i) => ({ n: start + i }));

/** A conformance target's prefix as one word of an event type (`[a-z0-9][a-z0-9_-]*`). */
export function typeWordOf(prefix: string): string {
  const word = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
  return word === '' ? 'conformance' : word;
}

/**
 * Builds what one test needs on one target: event types and queue names unique to the target,
 * transports, subscriptions served by a real {@link HandlerPipeline}, and envelopes.
 */
export class ConformanceFixture {
  /** First word of every event type of this test, so tests never receive each other's events. */
  readonly word: string;

  constructor(readonly target: ConformanceTarget) {
    this.word = typeWordOf(target.prefix);
  }

  /** A unique event type, e.g. `t3f9a.x.a.added` for `x.a.added`. */
  type(name: string): string {
    return `${this.word}.${name}`;
  }

  /** A unique subscription (queue) name. */
  queue(name: string): string {
    return `${this.target.prefix}${name}`;
  }

  /** A new event class named `type(name)`, optionally with a schema. */
  defineEvent(name: string, schema?: EventSchema<object>): EventClass {
    const event = class ConformanceEvent {};
    IntegrationEvent<object>(this.type(name), schema ? { schema } : {})(event);
    return event;
  }

  /** A retry policy on the small tiers, without jitter: first retry after 20 ms, later ones after 50 ms. */
  retryPolicy(options: RetryOptions = {}): RetryPolicy {
    return new RetryPolicy({ tiersMs: SMALL_TIERS_MS, initialDelayMs: 20, jitter: 0, ...options });
  }

  /** A handler bound to an event class or to topic patterns (full types, see {@link type}). */
  handler(on: EventClass | readonly string[], handle: EventHandlerFn, retry: RetryOptions = {}): HandlerBinding {
    const target: HandlerBinding['target'] =
      typeof on === 'function' ? { event: getEventDefinition(on) } : { patterns: on.map((p) => TopicPattern.parse(p)) };
    const name = 'event' in target ? target.event.type : on.toString();
    return { name: `conformance ${name}`, target, handle, retry: this.retryPolicy(retry), classifier: new ErrorClassifier() };
  }

  /** A new transport, not started. */
  transport(service: string): Transport {
    return this.target.createTransport({ service });
  }

  /** A new, started transport. */
  async started(service: string): Promise<Transport> {
    const transport = this.transport(service);
    await transport.start();
    return transport;
  }

  /** Subscribes `transport` to the queue `queue(name)` through a {@link HandlerPipeline}; returns the queue name. */
  async subscribe(transport: Transport, name: string, options: SubscribeOptions): Promise<string> {
    const queue = this.queue(name);
    const { handlers } = options;
    const patterns =
      options.patterns ?? handlers.flatMap((h) => ('event' in h.target ? [h.target.event.type] : h.target.patterns.map((p) => p.source)));
    const tiers = new Set([...SMALL_TIERS_MS, ...handlers.flatMap((h) => h.retry.options.tiersMs)]);
    const subscription: Subscription = {
      name: queue,
      patterns: [...new Set(patterns)].map((p) => TopicPattern.parse(p)),
      prefetch: options.prefetch ?? 10,
      concurrency: options.concurrency ?? 1,
      retryTiersMs: [...tiers].sort((a, b) => a - b),
    };
    const pipeline = new HandlerPipeline({ subscription: queue, handlers, retry: this.retryPolicy() });
    await transport.subscribe(subscription, options.wrapDeliver ? options.wrapDeliver(pipeline.deliver) : pipeline.deliver);
    return queue;
  }

  /** An envelope of an event class, or of a bare type string (for types nobody declared). */
  envelope(event: EventClass | string, data: unknown): Envelope {
    const { type, version } = typeof event === 'string' ? { type: event, version: 1 } : getEventDefinition(event);
    return createEnvelope({ type, version, source: 'conformance', data });
  }

  /** Publishes one envelope per payload in one call; returns their ids in publish order. */
  async publish(transport: Transport, event: EventClass | string, data: readonly unknown[]): Promise<string[]> {
    const envelopes = data.map((d) => this.envelope(event, d));
    await transport.publish(envelopes);
    return envelopes.map((e) => e.id);
  }

  /** Publishes one event; returns its id. */
  async publishOne(transport: Transport, event: EventClass | string, data: unknown): Promise<string> {
    const envelope = this.envelope(event, data);
    await transport.publish([envelope]);
    return envelope.id;
  }

  /** Polls the target until `queue` holds a dead letter; returns the oldest. */
  firstDeadLetter(queue: string): Promise<DeadLetterRecord> {
    return eventually(async () => {
      const [letter] = await this.target.deadLetters(queue);
      if (!letter) throw new Error(`no dead letter in ${queue} yet`);
      return letter;
    });
  }
}
