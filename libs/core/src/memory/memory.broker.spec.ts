import { Gate } from '../conformance/gate.js';
import { Latch } from '../conformance/latch.js';
import { createEnvelope } from '../envelope/envelope.factory.js';
import { ConfigurationError } from '../errors/configuration.error.js';
import { NonRetryableError } from '../errors/non-retryable.error.js';
import { RetryableError } from '../errors/retryable.error.js';
import { PublishFailedError } from '../errors/publish-failed.error.js';
import { getEventDefinition, IntegrationEvent, type EventClass } from '../events/integration-event.decorator.js';
import type { EventContext } from '../pipeline/event-context.js';
import type { EventHandlerFn } from '../pipeline/handler-binding.js';
import { HandlerPipeline } from '../pipeline/handler.pipeline.js';
import { ErrorClassifier } from '../retry/error.classifier.js';
import { RetryPolicy, type RetryOptions } from '../retry/retry.policy.js';
import { TopicPattern } from '../topic/topic-pattern.js';
import { BrokerNotIdleError, MemoryBroker, type MemoryBrokerEvent } from './memory.broker.js';
import { MemoryTransport } from './memory.transport.js';

@IntegrationEvent('shop.order.placed')
class OrderPlaced {}

@IntegrationEvent('shop.invoice.sent')
class InvoiceSent {}

const envelope = (event: EventClass, data: unknown = {}) =>
  createEnvelope({ type: getEventDefinition(event).type, version: 1, source: 'memory-spec', data });

/** Subscribes `transport` to `queue` with one handler for `event`, through a real pipeline. */
async function subscribe(
  transport: MemoryTransport,
  queue: string,
  event: EventClass,
  handle: EventHandlerFn,
  retry: RetryOptions = {},
): Promise<void> {
  const policy = new RetryPolicy({ tiersMs: [20, 50], initialDelayMs: 20, jitter: 0, ...retry });
  const definition = getEventDefinition(event);
  const pipeline = new HandlerPipeline({
    subscription: queue,
    handlers: [{ name: queue, target: { event: definition }, handle, retry: policy, classifier: new ErrorClassifier() }],
  });
  await transport.subscribe(
    { name: queue, patterns: [TopicPattern.parse(definition.type)], prefetch: 1, concurrency: 1, retryTiersMs: policy.options.tiersMs },
    pipeline.deliver,
  );
}

describe('MemoryBroker', () => {
  let broker: MemoryBroker;
  let transport: MemoryTransport;

  beforeEach(async () => {
    broker = new MemoryBroker();
    transport = new MemoryTransport({ broker });
    await transport.start();
  });

  afterEach(async () => {
    await transport.stop();
    broker.dispose();
  });

  it('whenIdle resolves once a chain settled: a follow-up event and its scheduled retry included', async () => {
    const attempts: number[] = [];
    await subscribe(transport, 'billing', OrderPlaced, async () => transport.publish([envelope(InvoiceSent)]));
    await subscribe(transport, 'mailer', InvoiceSent, (_data, context: EventContext) => {
      attempts.push(context.attempt);
      if (context.attempt === 1) throw new RetryableError('smtp busy');
    });

    await transport.publish([envelope(OrderPlaced)]);
    await broker.whenIdle(1000);

    expect(attempts).toEqual([1, 2]);
    expect(broker.pending()).toEqual({});
  });

  it('whenIdle rejects with BrokerNotIdleError naming the pending queue when a handler never finishes', async () => {
    const gate = new Gate();
    await subscribe(transport, 'stuck', OrderPlaced, () => gate.opened);
    try {
      await transport.publish([envelope(OrderPlaced)]);
      const error: unknown = await broker.whenIdle(30).then(
        () => undefined,
        (e: unknown) => e,
      );

      expect(error).toBeInstanceOf(BrokerNotIdleError);
      expect((error as BrokerNotIdleError).code).toBe('TIDINGS_NOT_IDLE');
      expect((error as BrokerNotIdleError).context).toEqual({ timeoutMs: 30, pending: { stuck: 1 } });
      expect((error as Error).message).toContain('"stuck":1');
    } finally {
      gate.open();
    }
    await broker.whenIdle(1000);
  });

  it('timeScale 0 retries on the next tick instead of waiting the tier delay', async () => {
    const fast = new MemoryTransport({ brokerOptions: { timeScale: 0 } });
    const handled = new Latch('second attempt');
    const attempts: number[] = [];
    await subscribe(
      fast,
      'slow-tiers',
      OrderPlaced,
      (_data, context: EventContext) => {
        attempts.push(context.attempt);
        if (context.attempt === 1) throw new RetryableError('try again in a minute');
        handled.arrive();
      },
      { tiersMs: [60_000], initialDelayMs: 60_000 },
    );
    await fast.start();
    try {
      await fast.publish([envelope(OrderPlaced)]);
      await handled.wait(1000);
      expect(attempts).toEqual([1, 2]);
    } finally {
      await fast.stop();
      fast.broker.dispose();
    }
  });

  it('replayDeadLetter puts a dead letter back as a first attempt, and it is handled', async () => {
    let broken = true;
    const attempts: number[] = [];
    const handled = new Latch('handled after replay');
    await subscribe(transport, 'fragile', OrderPlaced, (_data, context: EventContext) => {
      attempts.push(context.attempt);
      if (broken) throw new NonRetryableError('bug in the handler');
      handled.arrive();
    });
    await transport.publish([envelope(OrderPlaced)]);
    await broker.whenIdle(1000);
    const [letter] = broker.deadLetters('fragile');
    expect(letter?.reason).toMatchObject({ code: 'TIDINGS_NON_RETRYABLE', attempts: 1 });

    broken = false; // the fix is deployed
    expect(broker.replayDeadLetter(letter?.id ?? -1)).toBe(true);
    await handled.wait(1000);

    expect(attempts).toEqual([1, 1]);
    expect(broker.deadLetters()).toEqual([]);
    expect(broker.replayDeadLetter(letter?.id ?? -1)).toBe(false);
  });

  it('a queue without consumers keeps its messages and does not block whenIdle', async () => {
    const handled = new Latch('handled once the service starts', 3);
    const later = new MemoryTransport({ broker });
    await subscribe(later, 'offline', OrderPlaced, () => handled.arrive());
    try {
      await transport.publish([envelope(OrderPlaced), envelope(OrderPlaced), envelope(OrderPlaced)]);
      await broker.whenIdle(100);
      expect(handled.count).toBe(0);

      await later.start();
      await handled.wait(1000);
      await broker.whenIdle(1000);
      expect(handled.count).toBe(3);
    } finally {
      await later.stop();
    }
  });

  it('observe reports published and settled events until the observer is removed', async () => {
    const seen: MemoryBrokerEvent[] = [];
    const unobserve = broker.observe((event) => seen.push(event));
    await subscribe(transport, 'audit', OrderPlaced, () => undefined);
    const placed = envelope(OrderPlaced);

    await transport.publish([placed]);
    await broker.whenIdle(1000);
    unobserve();
    await transport.publish([envelope(OrderPlaced)]);
    await broker.whenIdle(1000);

    expect(seen.map((e) => e.kind)).toEqual(['published', 'settled']);
    expect(seen[0]).toMatchObject({ kind: 'published', message: { routingKey: 'shop.order.placed', attributes: { id: placed.id } } });
    expect(seen[1]).toMatchObject({ kind: 'settled', queue: 'audit', item: { attempt: 1 }, outcome: { kind: 'ack' } });
  });

  it('whenIdle counts a delivery still in flight on a consumer that is being stopped', async () => {
    const gate = new Gate();
    const started = new Latch('handler started');
    await subscribe(transport, 'draining', OrderPlaced, async () => {
      started.arrive();
      await gate.opened;
    });
    await transport.publish([envelope(OrderPlaced)]);
    await started.wait(1000);

    const stopping = transport.stop();
    try {
      expect(broker.pending()).toEqual({ draining: 1 });
    } finally {
      gate.open();
    }
    await stopping;
    await broker.whenIdle(1000);
    expect(broker.pending()).toEqual({});
  });

  it('whenIdle resolves when a scheduled retry lands in a queue whose consumers left', async () => {
    const attempts: number[] = [];
    const failed = new Latch('first attempt failed');
    await subscribe(transport, 'abandoned', OrderPlaced, (_data, context: EventContext) => {
      attempts.push(context.attempt);
      if (context.attempt === 1) {
        failed.arrive();
        throw new RetryableError('later');
      }
    });
    await transport.publish([envelope(OrderPlaced)]);
    await failed.wait(1000);
    await transport.stop();
    expect(broker.pending()).toEqual({ '(scheduled retries)': 1 });

    await broker.whenIdle(1000);
    expect(broker.pending()).toEqual({});
    expect(attempts).toEqual([1]);

    // The retry waits in the queue for the service to come back.
    await transport.start();
    await broker.whenIdle(1000);
    expect(attempts).toEqual([1, 2]);
  });

  it('without an event log, refuses the unroutable events of a batch and delivers the rest', async () => {
    const strict = new MemoryTransport({ brokerOptions: { eventLog: false } });
    const handled = new Latch('handled');
    await subscribe(strict, 'orders', OrderPlaced, () => handled.arrive());
    await strict.start();
    try {
      const invoice = envelope(InvoiceSent);
      const failure = await strict.publish([envelope(OrderPlaced), invoice]).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(PublishFailedError);
      expect((failure as PublishFailedError).failures).toEqual([expect.objectContaining({ id: invoice.id, reason: 'unroutable' })]);
      expect((failure as PublishFailedError).accepted).toBe(1);
      await strict.publish([envelope(OrderPlaced)]);
      await strict.broker.whenIdle(1000);
      expect(handled.count).toBe(2);
      expect(strict.eventLog).toBeUndefined();
    } finally {
      await strict.stop();
    }
  });

  it('refuses a negative or NaN timeScale', () => {
    expect(() => new MemoryBroker({ timeScale: -1 })).toThrow(ConfigurationError);
    expect(() => new MemoryBroker({ timeScale: Number.NaN })).toThrow(ConfigurationError);
  });
});
