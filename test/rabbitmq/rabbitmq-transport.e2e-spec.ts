import { eventually, Latch, PublishFailedError, type EventContext } from '@tidings/core';
import { TidingsHeader, TopologyMismatchError, type RabbitMqTransport } from '@tidings/rabbitmq';
import type { GetMessage } from 'amqplib';
import net from 'node:net';
import { RabbitMqManagement } from '../support/rabbitmq-management.js';
import { RabbitMqFixture, RecordingLogger } from './rabbitmq.fixture.js';

const TIMEOUT_MS = 20_000;
const management = new RabbitMqManagement();

describe('RabbitMqTransport against the real broker', () => {
  let fx: RabbitMqFixture;

  beforeEach(() => {
    fx = new RabbitMqFixture();
  });

  afterEach(() => fx.dispose(), TIMEOUT_MS);

  it(
    'declares the topology it promises: topic exchange, quorum queue with its bindings, retry tiers back to it only, DLQ',
    async () => {
      const transport = fx.transport();
      await transport.start();
      const queue = await fx.subscribe(transport, 'notifications.answers', `${fx.type('answer')}.*`, () => undefined, {
        retry: { tiersMs: [1000, 10_000] },
      });

      expect(await management.getExchange(fx.exchange)).toMatchObject({ type: 'topic', durable: true });
      expect(await management.getQueue(queue)).toMatchObject({
        type: 'quorum',
        durable: true,
      });
      // Exactly these arguments: a queue declared otherwise would fail the next start with a 406.
      expect((await management.getQueue(queue))?.arguments).toEqual({
        'x-queue-type': 'quorum',
        'x-queue-leader-locator': 'balanced',
        'x-delivery-limit': 20,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': `${queue}.dlq`,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      });
      expect((await management.listBindings(queue)).filter((b) => b.source === fx.exchange).map((b) => b.routing_key)).toEqual([
        `${fx.type('answer')}.*`,
      ]);
      for (const [name, ttl] of [
        [`${queue}.retry.1s`, 1000],
        [`${queue}.retry.10s`, 10_000],
      ] as const) {
        expect((await management.getQueue(name))?.arguments).toEqual({
          'x-queue-type': 'quorum',
          'x-queue-leader-locator': 'balanced',
          'x-message-ttl': ttl,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': queue,
          'x-dead-letter-strategy': 'at-least-once',
          'x-overflow': 'reject-publish',
        });
        // Bound to nothing but the default exchange: a retry never reaches another subscriber.
        expect((await management.listBindings(name)).filter((b) => b.source !== '')).toEqual([]);
      }
      expect(await management.getQueue(`${queue}.dlq`)).toMatchObject({ type: 'quorum', durable: true });
      expect(transport.declaredTopology()).toEqual([
        {
          queue,
          bindings: [`${fx.type('answer')}.*`],
          retryQueues: [`${queue}.retry.1s`, `${queue}.retry.10s`],
          deadLetterQueue: `${queue}.dlq`,
        },
      ]);

      // Declaring again (another instance of the service) is idempotent.
      const again = fx.transport();
      await fx.subscribe(again, 'notifications.answers', `${fx.type('answer')}.*`, () => undefined, { retry: { tiersMs: [1000, 10_000] } });
      await again.start();
      await eventually(async () => expect(await management.consumerCount(queue)).toBe(2), { timeoutMs: 10_000, intervalMs: 200 });
    },
    TIMEOUT_MS,
  );

  it(
    'retries through the tiers, then dead-letters with the reason in headers, without re-broadcasting retries',
    async () => {
      const type = fx.type('order.placed');
      const transport = fx.transport();
      const attempts: number[] = [];
      const broken = await fx.subscribe(
        transport,
        'billing.invoices',
        type,
        (_data, context) => {
          attempts.push(context.attempt);
          throw new TypeError('tax table missing');
        },
        { service: 'billing', retry: { maxAttempts: 3 } },
      );
      const handledByOther = new Latch('other subscriber');
      await fx.subscribe(transport, 'shipping.orders', type, () => handledByOther.arrive());
      await transport.start();
      const envelope = fx.envelope(type, { orderId: 'o1' });

      await transport.publish([envelope]);

      const raw = await fx.raw();
      const channel = await raw.createChannel();
      const letter = await eventually(
        async () => {
          const message = await channel.get(`${broken}.dlq`, { noAck: true });
          expect(message).not.toBe(false);
          return message as GetMessage;
        },
        { timeoutMs: 10_000 },
      );
      const headers = letter.properties.headers ?? {};
      expect(attempts).toEqual([1, 2, 3]);
      expect(headers).toMatchObject({
        [TidingsHeader.errorCode]: 'TIDINGS_HANDLER_FAILED',
        [TidingsHeader.errorName]: 'TypeError',
        [TidingsHeader.errorMessage]: 'tax table missing',
        [TidingsHeader.attempts]: 3,
        [TidingsHeader.routingKey]: type,
        [TidingsHeader.service]: 'billing',
        [TidingsHeader.subscription]: broken,
        cloudEvents_id: envelope.id,
      });
      const first = Date.parse(String(headers[TidingsHeader.firstFailureAt]));
      const last = Date.parse(String(headers[TidingsHeader.lastFailureAt]));
      expect(last - first).toBeGreaterThanOrEqual(20 + 50 - 10); // it waited both tiers
      expect(headers).not.toHaveProperty('x-death');
      expect(letter.properties.messageId).toBe(envelope.id);
      expect(JSON.parse(letter.content.toString('utf8'))).toEqual({ orderId: 'o1' });
      // The healthy subscriber got the event exactly once: retries went to the broken queue only.
      await handledByOther.wait();
      expect(handledByOther.count).toBe(1);
      await channel.close();
    },
    TIMEOUT_MS,
  );

  it(
    'keeps the attempt count in headers, so it survives a consumer restart',
    async () => {
      const type = fx.type('job.started');
      const seen: number[] = [];
      const firstAttempt = new Latch('first attempt');
      const second = new Latch('second attempt');
      const handler = (_data: unknown, context: EventContext): void => {
        seen.push(context.attempt);
        if (context.attempt === 1) {
          firstAttempt.arrive();
          throw new Error('transient');
        }
        second.arrive();
      };
      const before = fx.transport();
      await fx.subscribe(before, 'jobs', type, handler, { retry: { tiersMs: [300] } });
      await before.start();
      await before.publish([fx.envelope(type)]);
      await firstAttempt.wait(10_000);
      await before.stop(); // drains: the retry copy is confirmed before the original is acked

      const after = fx.transport();
      await fx.subscribe(after, 'jobs', type, handler, { retry: { tiersMs: [300] } });
      await after.start();

      await second.wait(10_000);
      expect(seen).toEqual([1, 2]);
    },
    TIMEOUT_MS,
  );

  it(
    'accepts structured-mode CloudEvents from a foreign producer',
    async () => {
      const type = fx.type('foreign.event');
      const received: unknown[] = [];
      const handled = new Latch('foreign');
      const transport = fx.transport();
      await fx.subscribe(transport, 'foreign', type, (data) => {
        received.push(data);
        handled.arrive();
      });
      await transport.start();
      const channel = await (await fx.raw()).createConfirmChannel();
      const event = { specversion: '1.0', id: 'php-1', type, source: 'legacy-php', time: '2024-05-01T10:00:00Z', data: { hello: 'world' } };
      channel.publish(fx.exchange, type, Buffer.from(JSON.stringify(event)), {
        contentType: 'application/cloudevents+json',
        persistent: true,
      });
      await channel.waitForConfirms();

      await handled.wait(10_000);
      expect(received).toEqual([{ hello: 'world' }]);
      await channel.close();
    },
    TIMEOUT_MS,
  );

  it(
    'fails startup on a queue that exists with other arguments, naming the queue and the argument, and deletes nothing',
    async () => {
      const queue = `${fx.prefix}legacy.orders`;
      fx.track(queue);
      fx.track(`${queue}.dlq`); // declared (first) before the refused queue
      const channel = await (await fx.raw()).createChannel();
      await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'classic' } });
      const transport = fx.transport({ queueType: 'quorum' });
      await fx.subscribe(transport, 'legacy.orders', fx.type('order.placed'), () => undefined);

      const failure = await transport.start().then(
        () => undefined,
        (error: unknown) => error,
      );

      expect(failure).toBeInstanceOf(TopologyMismatchError);
      expect((failure as TopologyMismatchError).message).toContain(`'${queue}'`);
      // RabbitMQ names the first argument it finds different; each of these differs from a plain classic queue.
      const argument = (failure as TopologyMismatchError).argument;
      expect(['x-queue-type', 'x-delivery-limit', 'x-dead-letter-exchange', 'x-dead-letter-routing-key']).toContain(argument);
      expect((failure as TopologyMismatchError).message).toContain(`'${argument}'`);
      expect((failure as TopologyMismatchError).hint).toMatch(/never deletes/);
      expect((await management.getQueue(queue))?.type).toBe('classic');
      await channel.close();
    },
    TIMEOUT_MS,
  );

  it(
    'resubscribes when its queue is deleted while consuming, instead of crashing',
    async () => {
      const type = fx.type('audit.entry');
      const logger = new RecordingLogger();
      const handled = new Latch('after redeclare');
      const transport = fx.transport({ logger });
      const queue = await fx.subscribe(transport, 'audit', type, () => handled.arrive());
      await transport.start();
      const channel = await (await fx.raw()).createChannel();

      await channel.deleteQueue(queue);

      await eventually(async () => expect(await management.consumerCount(queue)).toBe(1), { timeoutMs: 10_000, intervalMs: 200 });
      expect(logger.lines.some((l) => l.startsWith('warn') && l.includes(queue) && l.includes('declaring it again'))).toBe(true);
      await transport.publish([fx.envelope(type)]);
      await handled.wait(10_000);
      expect(handled.count).toBe(1);
      await channel.close();
    },
    TIMEOUT_MS,
  );

  it(
    'reports publishes to a deleted exchange as failures instead of hanging, and publishes again once it is back',
    async () => {
      const type = fx.type('note.added');
      const handled = new Latch('notes');
      const consumer = fx.transport();
      await fx.subscribe(consumer, 'notes', type, () => handled.arrive());
      await consumer.start();
      const publisher = fx.transport();
      await publisher.start();
      await publisher.publish([fx.envelope(type)]);
      await handled.wait(10_000);
      const channel = await (await fx.raw()).createChannel();

      await channel.deleteExchange(fx.exchange);
      const failure = await publisher.publish([fx.envelope(type), fx.envelope(type)]).then(
        () => undefined,
        (error: unknown) => error,
      );

      expect(failure).toBeInstanceOf(PublishFailedError);
      const reasons = (failure as PublishFailedError).failures.map((f) => f.reason);
      expect(reasons).toHaveLength(2);
      expect(reasons.every((r) => r === 'refused' || r === 'unconfirmed')).toBe(true);
      expect((failure as PublishFailedError).failures[0]?.detail).toMatch(/NOT_FOUND|no exchange/);

      // The publisher redeclares its exchange on a new channel; the consumer binds again when it restarts.
      await consumer.stop();
      await consumer.start();
      await publisher.publish([fx.envelope(type)]);
      await handled.waitFor(2, 10_000);
      expect(handled.count).toBe(2);
      await channel.close();
    },
    TIMEOUT_MS,
  );

  it(
    'keeps at most publishWindow confirms in flight and delivers every message',
    async () => {
      const type = fx.type('tick');
      const handled = new Latch('ticks', 3000);
      const consumer = fx.transport();
      await fx.subscribe(consumer, 'ticks', type, () => handled.arrive(), { prefetch: 200, concurrency: 50 });
      await consumer.start();
      const publisher = fx.transport({ publishWindow: 100 });
      await publisher.start();
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, publisher.status().publishesInFlight)), 1);

      await publisher.publish(Array.from({ length: 3000 }, (_, i) => fx.envelope(type, { i })));

      clearInterval(sampler);
      expect(peak).toBeGreaterThan(1); // pipelined, not one at a time
      expect(peak).toBeLessThanOrEqual(100);
      expect(publisher.status().publishesInFlight).toBe(0);
      await handled.wait(15_000);
      expect(handled.count).toBe(3000);
    },
    TIMEOUT_MS,
  );

  it(
    'sends a burst of publishes in a few socket writes, not one per message, and delivers each message intact',
    async () => {
      const type = fx.type('burst');
      const received = new Map<number, unknown>();
      const handled = new Latch('burst', 500);
      const subscribe = async (): Promise<RabbitMqTransport> => {
        const consumer = fx.transport();
        await fx.subscribe(
          consumer,
          'burst',
          type,
          (data) => {
            received.set((data as { i: number }).i, data);
            handled.arrive();
          },
          { prefetch: 200, concurrency: 50 },
        );
        await consumer.start();
        return consumer;
      };
      // The queue and its binding first; then nobody consumes while publishing, so only the publisher writes.
      await (await subscribe()).stop();
      const publisher = fx.transport();
      await publisher.start();
      // Socket writes to the broker's port, as the stream calls them: `_write` for one chunk, `_writev` for many.
      const writes = { calls: 0, chunks: 0 };
      const socket = net.Socket.prototype as unknown as Record<'_write' | '_writev', (this: net.Socket, ...args: unknown[]) => void>;
      const original = { _write: socket._write, _writev: socket._writev };
      const counted = (name: '_write' | '_writev') =>
        function (this: net.Socket, ...args: unknown[]): void {
          if (this.remotePort === 5672) {
            writes.calls++;
            writes.chunks += name === '_writev' ? (args[0] as unknown[]).length : 1;
          }
          original[name].apply(this, args);
        };
      socket._write = counted('_write');
      socket._writev = counted('_writev');
      const payload = 'x'.repeat(1000);
      try {
        await publisher.publish(Array.from({ length: 500 }, (_, i) => fx.envelope(type, { i, payload })));
      } finally {
        socket._write = original._write;
        socket._writev = original._writev;
      }
      await subscribe();

      // Without coalescing, amqplib writes each message on its own: 500 writes. A few are allowed for other frames.
      expect(writes.chunks).toBeGreaterThanOrEqual(500);
      expect(writes.calls).toBeLessThan(20);
      await handled.wait(15_000);
      expect(received.size).toBe(500);
      expect(received.get(499)).toEqual({ i: 499, payload });
    },
    TIMEOUT_MS,
  );
});
