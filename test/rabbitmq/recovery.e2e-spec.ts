import {
  createEnvelope,
  ErrorClassifier,
  HandlerPipeline,
  Latch,
  PublishFailedError,
  RetryPolicy,
  TopicPattern,
  eventually,
  type Envelope,
} from '@tidings/core';
import { RabbitMqTransport } from '@tidings/rabbitmq';
import { startThrowawayRabbitMq, type ThrowawayRabbitMq } from '../support/rabbitmq-node.js';
import { RecordingLogger } from './rabbitmq.fixture.js';

// These tests stop, force-close and alarm a broker: they run their own throwaway node, never the shared one.
const TIMEOUT_MS = 120_000;
const TYPE = 'recovery.order.placed';

/** Effects keyed by event id: "N handled exactly once in effect" is `effects.size === N`; deliveries - N are duplicates. */
class Ledger {
  readonly effects = new Set<string>();
  deliveries = 0;
  constructor(readonly all: Latch) {}

  record = (_data: unknown, context: { envelope: Envelope }): void => {
    this.deliveries++;
    if (!this.effects.has(context.envelope.id)) {
      this.effects.add(context.envelope.id);
      this.all.arrive();
    }
  };
}

const envelopes = (n: number, from = 0): Envelope[] =>
  Array.from({ length: n }, (_, i) => createEnvelope({ type: TYPE, version: 1, source: 'recovery-e2e', data: { n: from + i } }));

/**
 * Publishes `all` in batches of 50, in the background and without pause, so faults injected meanwhile hit
 * publishes in flight. `confirmed` counts what the broker accepted; faults wait on it.
 */
class BackgroundPublisher {
  confirmed = 0;
  republished = 0;
  readonly done: Promise<void>;
  private readonly progress = new Set<() => void>();

  constructor(transport: RabbitMqTransport, all: readonly Envelope[], deadline: number) {
    this.done = (async () => {
      for (let i = 0; i < all.length; i += 50) {
        const batch = all.slice(i, i + 50);
        this.republished += await publishConfirmed(transport, batch, deadline);
        this.confirmed += batch.length;
        for (const wake of this.progress) wake();
      }
    })();
  }

  /** Resolves once at least `count` envelopes are confirmed. */
  reached(count: number): Promise<void> {
    if (this.confirmed >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        if (this.confirmed < count) return;
        this.progress.delete(wake);
        resolve();
      };
      this.progress.add(wake);
    });
  }
}

/** Publishes until every envelope is confirmed, re-publishing (same ids) only what was not accepted. */
async function publishConfirmed(transport: RabbitMqTransport, batch: readonly Envelope[], deadline: number): Promise<number> {
  let pending = batch;
  let republished = 0;
  while (pending.length > 0) {
    try {
      await transport.publish(pending);
      return republished;
    } catch (error) {
      if (!(error instanceof PublishFailedError) || Date.now() > deadline) throw error;
      const failed = new Set(error.failures.map((f) => f.id));
      pending = pending.filter((e) => failed.has(e.id));
      republished += pending.length;
      await new Promise((resolve) => setTimeout(resolve, 100)); // back off before publishing again
    }
  }
  return republished;
}

describe('RabbitMqTransport recovery (throwaway RabbitMQ node)', () => {
  let node: ThrowawayRabbitMq;
  let transports: RabbitMqTransport[] = [];
  let suffix = 0;

  beforeAll(async () => {
    node = await startThrowawayRabbitMq();
  }, TIMEOUT_MS);

  afterAll(() => node?.dispose(), TIMEOUT_MS);

  afterEach(async () => {
    await Promise.all(transports.map((t) => t.stop()));
    transports = [];
  }, TIMEOUT_MS);

  async function consumingTransport(
    ledger: Ledger,
    logger: RecordingLogger,
    options: { publishTimeoutMs?: number; publishWindow?: number } = {},
  ) {
    const queue = `recovery.orders-${++suffix}`;
    const transport = new RabbitMqTransport({
      url: node.url,
      connectionName: 'recovery-test',
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
      logger,
      ...options,
    });
    transports.push(transport);
    const retry = new RetryPolicy({ tiersMs: [50], initialDelayMs: 50, jitter: 0 });
    const pipeline = new HandlerPipeline({
      subscription: queue,
      handlers: [
        {
          name: 'ledger',
          target: { patterns: [TopicPattern.parse(TYPE)] },
          handle: ledger.record,
          retry,
          classifier: new ErrorClassifier(),
        },
      ],
    });
    await transport.subscribe(
      { name: queue, patterns: [TopicPattern.parse(TYPE)], prefetch: 100, concurrency: 20, retryTiersMs: [50] },
      pipeline.deliver,
    );
    await transport.start();
    return { transport, queue };
  }

  /** Consumers on a queue, one row each in the broker's own list (list_queues lags for quorum queues). */
  async function consumersOf(queue: string): Promise<number> {
    const rows = (await node.ctl('list_consumers', 'queue_name', '--no-table-headers')).split('\n');
    return rows.filter((row) => row.trim() === queue).length;
  }

  it(
    'survives stop_app/start_app mid-stream: N confirmed, N handled, 0 lost, one consumer per queue as before',
    async () => {
      const N = 2000;
      const ledger = new Ledger(new Latch('handled', N));
      const logger = new RecordingLogger();
      const { transport, queue } = await consumingTransport(ledger, logger);
      await eventually(async () => expect(await consumersOf(queue)).toBe(1), { timeoutMs: 10_000, intervalMs: 100 });
      const all = envelopes(N);
      const publisher = new BackgroundPublisher(transport, all, Date.now() + 90_000);

      await publisher.reached(600);
      await node.stopApp();
      await node.startApp();
      await publisher.done;
      await ledger.all.wait(90_000);

      expect(ledger.effects.size).toBe(N);
      expect(all.every((e) => ledger.effects.has(e.id))).toBe(true);
      await eventually(async () => expect(await consumersOf(queue)).toBe(1), { timeoutMs: 10_000, intervalMs: 250 });
      expect(logger.lines.some((l) => l.includes('re-established'))).toBe(true);
      console.info(
        `stop_app/start_app: ${N} sent, ${publisher.republished} re-published, ${ledger.deliveries - N} duplicate deliveries, 0 lost`,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'a memory alarm blocks the publisher only: consumers keep going, publishes wait with bounded memory, 0 lost after it is lifted',
    async () => {
      const before = 500;
      const during = 1000;
      const ledger = new Ledger(new Latch('handled', before + during));
      const logger = new RecordingLogger();
      const { transport } = await consumingTransport(ledger, logger, { publishTimeoutMs: 60_000, publishWindow: 100 });
      const first = envelopes(before);
      const second = envelopes(during, before);

      // Queue up work, then hold the consumers' attention while the alarm is raised.
      await transport.publish(first);
      await node.setMemoryAlarm(true);
      try {
        // The broker blocks a connection when it next publishes: publishing now waits, at most publishWindow in flight.
        const publishing = transport.publish(second);
        let peak = 0;
        const sampler = setInterval(() => (peak = Math.max(peak, transport.status().publishesInFlight)), 5);
        await eventually(() => expect(transport.status().publisher.state).toBe('blocked'), { timeoutMs: 20_000, intervalMs: 50 });
        expect(transport.health()).toMatchObject({ healthy: false, detail: expect.stringMatching(/^publisher blocked/) });
        // Consumers are not blocked: everything published before the alarm is handled during it.
        await ledger.all.waitFor(before, 30_000);
        expect(transport.status().consumer.state).toBe('connected');
        expect(ledger.effects.size).toBe(before);
        clearInterval(sampler);
        expect(peak).toBeLessThanOrEqual(100);
        expect(peak).toBeGreaterThan(0);

        await node.setMemoryAlarm(false);
        await publishing;
      } finally {
        await node.setMemoryAlarm(false);
      }
      await ledger.all.wait(60_000);

      expect(ledger.effects.size).toBe(before + during);
      expect(transport.status().publisher.state).toBe('connected');
      expect(transport.health()).toEqual({ healthy: true, detail: 'publisher connected, consumer connected' });
      expect(logger.lines.some((l) => l.includes('blocked the publisher connection'))).toBe(true);
    },
    TIMEOUT_MS,
  );

  it(
    'bounds a publish blocked by an alarm: it fails as unconfirmed after publishTimeoutMs, and publishing it again loses nothing',
    async () => {
      const N = 200;
      const ledger = new Ledger(new Latch('handled', N));
      const logger = new RecordingLogger();
      const { transport } = await consumingTransport(ledger, logger, { publishTimeoutMs: 1500 });
      const batch = envelopes(N);

      await node.setMemoryAlarm(true);
      let failure: unknown;
      const started = Date.now();
      try {
        failure = await transport.publish(batch).then(
          () => undefined,
          (error: unknown) => error,
        );
      } finally {
        await node.setMemoryAlarm(false);
      }

      expect(failure).toBeInstanceOf(PublishFailedError);
      const failures = (failure as PublishFailedError).failures;
      expect(failures.length).toBeGreaterThan(0);
      expect(failures.every((f) => f.reason === 'unconfirmed')).toBe(true);
      expect(failures[0]?.detail).toMatch(/no confirm within 1500 ms \(the broker blocked publishing/);
      expect(Date.now() - started).toBeLessThan(1500 + 3000); // the deadline, plus the sweeper's second and slack
      expect(transport.status().publishesInFlight).toBe(0);

      await publishConfirmed(transport, batch, Date.now() + 30_000);
      await ledger.all.wait(30_000);
      expect(ledger.effects.size).toBe(N);
    },
    TIMEOUT_MS,
  );
});
