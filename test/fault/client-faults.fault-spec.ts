import { setTimeout as delay } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createEnvelope, encodeEnvelope, eventually, getEventDefinition, IntegrationEvent, type OutboundMessage } from '@tidings/core';
import { deadLetterQueueName, deadLetterReasonOf, RabbitMqTransport } from '@tidings/rabbitmq';
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { toPublication } from '../../libs/rabbitmq/src/wire/amqp-message.mapping.js';
import { RABBITMQ_URL, removeTopology, silentLogger, uniquePrefix } from '../rabbitmq/rabbitmq-conformance.target.js';
import { describeReport, expectClean } from './support/fault-report.js';
import { scaled } from './support/fault-scale.js';
import { OutboxPipeline } from './support/outbox-pipeline.js';

// Faults that come from clients, not from the infrastructure: a producer far faster than the broker, and producers
// that send what no retry can fix. The shared broker and database stay up; everything is under a unique prefix.
/** `work`'s value, or `fallback` if it takes longer than `ms` (and no timer is left behind either way). */
async function within<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
const MB = 1024 * 1024;

/** A full garbage collection, then the heap in use: what is retained, whatever the collector's rhythm. */
const heapAfterGc = (() => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return (): number => {
    gc();
    return process.memoryUsage().heapUsed;
  };
})();

describe('fault: clients misbehave (shared RabbitMQ and PostgreSQL)', () => {
  let raw: ChannelModel;

  beforeAll(async () => {
    raw = await connect(RABBITMQ_URL);
    raw.on('error', () => undefined);
  });

  afterAll(() => raw.close());

  /** A transport on its own exchange with one classic queue bound to everything, counted and deleted afterwards. */
  async function flooded(label: string, publishWindow: number) {
    const prefix = uniquePrefix(label);
    const exchange = `${prefix}events`;
    const sink = `${prefix}sink`;
    const type = `${prefix.replace(/[^a-z0-9-]/g, '')}.item.added`;
    const transport = new RabbitMqTransport({ url: RABBITMQ_URL, exchange, logger: silentLogger, publishWindow, connectionName: prefix });
    const channel = await raw.createChannel();
    await transport.start();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    await channel.assertQueue(sink, { durable: true, arguments: { 'x-queue-type': 'classic' } });
    await channel.bindQueue(sink, exchange, '#');
    return {
      transport,
      envelope: (seq: number) => createEnvelope({ type, version: 1, source: 'fault-suite', data: { seq } }),
      queued: async () => (await channel.checkQueue(sink)).messageCount,
      dispose: async () => {
        await removeTopology(raw, [transport], exchange, [sink]);
        await channel.close().catch(() => undefined);
      },
    };
  }

  it('200,000 publishes by 2,000 producers against a window of 1,000: back pressure holds, memory stays flat, none hangs', async () => {
    const total = 200_000;
    const producers = 2000;
    const publishWindow = 1000;
    const flood = await flooded('flood', publishWindow);
    try {
      let next = 0;
      let confirmed = 0;
      let rejected = 0;
      let peakInFlight = 0;
      const rssAtTenths: number[] = [];
      const heapAtTenths: number[] = [];
      // Each producer publishes one event at a time and waits for its confirm, as request handlers do: twice as many
      // producers as the window has slots, so half of them always wait in it.
      const producer = async (): Promise<void> => {
        while (next < total) {
          const seq = next++;
          try {
            await flood.transport.publish([flood.envelope(seq)]);
            confirmed += 1;
          } catch {
            rejected += 1;
          }
          peakInFlight = Math.max(peakInFlight, flood.transport.status().publishesInFlight);
          if ((confirmed + rejected) % (total / 10) === 0) {
            rssAtTenths.push(process.memoryUsage().rss);
            heapAtTenths.push(heapAfterGc());
          }
        }
      };
      const started = Date.now();
      const finished = await within(
        Promise.all(Array.from({ length: producers }, producer)).then(() => true),
        180_000,
        false,
      );
      const elapsedMs = Date.now() - started;
      const hung = total - confirmed - rejected;
      await eventually(async () => expect(await flood.queued()).toBe(confirmed), { timeoutMs: 30_000 });

      // RSS saws up and down with garbage collection, and how far depends on the collector's rhythm (a busy machine
      // lets garbage pile up further): growth is measured on the heap retained after a full collection instead.
      const heapMb = heapAtTenths.map((bytes) => Math.round(bytes / MB));
      const growthMb = Math.max(...heapMb.slice(5)) - Math.max(...heapMb.slice(1, 5));
      process.stdout.write(
        `[fault] ${total} publishes by ${producers} producers: confirmed ${confirmed}, rejected ${rejected}, hung ${hung}, queued ${confirmed}; ` +
          `${Math.round(total / (elapsedMs / 1000))}/s, at most ${peakInFlight} in flight (window ${publishWindow}); ` +
          `RSS at each tenth ${rssAtTenths.map((rss) => Math.round(rss / MB)).join(', ')} MB; heap after a full GC ${heapMb.join(', ')} MB ` +
          `(second half's peak over the first's: ${growthMb} MB)\n`,
      );
      expect(finished).toBe(true);
      expect({ confirmed, rejected, hung }).toEqual({ confirmed: total, rejected: 0, hung: 0 });
      expect(peakInFlight).toBe(publishWindow);
      expect(rssAtTenths).toHaveLength(10);
      // Bounded: what the transport holds depends on the window and the producers, not on how many were published.
      expect(growthMb).toBeLessThan(16);
    } finally {
      await flood.dispose();
    }
  }, 240_000);

  it('20,000 publishes at once (20 times the window): every promise settles, the window holds', async () => {
    const total = 20_000;
    const publishWindow = 1000;
    const flood = await flooded('burst', publishWindow);
    try {
      let peakInFlight = 0;
      const sampler = setInterval(() => (peakInFlight = Math.max(peakInFlight, flood.transport.status().publishesInFlight)), 5);
      const publishes = Array.from({ length: total }, (_, seq) => flood.transport.publish([flood.envelope(seq)]));
      const settled = await within(Promise.allSettled(publishes), 120_000, []);
      clearInterval(sampler);
      const confirmed = settled.filter((s) => s.status === 'fulfilled').length;
      await eventually(async () => expect(await flood.queued()).toBe(confirmed), { timeoutMs: 30_000 });

      process.stdout.write(
        `[fault] ${total} publishes at once: ${settled.length} settled, ${confirmed} confirmed, at most ${peakInFlight} in flight\n`,
      );
      expect(settled).toHaveLength(total);
      expect(confirmed).toBe(total);
      expect(peakInFlight).toBeLessThanOrEqual(publishWindow);
    } finally {
      await flood.dispose();
    }
  }, 180_000);

  it('poison messages (malformed JSON, schema-invalid, oversized, unknown type): dead-lettered after one attempt, the consumer idles after', async () => {
    const good = scaled(1000, 5000);
    const perKind = scaled(50, 250);
    const pipeline = await OutboxPipeline.start({ label: 'poison', rabbitmqUrl: RABBITMQ_URL, consumer: false });
    let publisher: ConfirmChannel | undefined;
    try {
      const requireSeq = (data: unknown): object => {
        if (typeof (data as { seq?: unknown } | null)?.seq !== 'number') throw new Error('seq must be a number');
        return data as object;
      };
      const Item = class FaultItem {};
      IntegrationEvent<object>(pipeline.type, { schema: requireSeq })(Item);
      await pipeline.ledger.effects.subscribe(await pipeline.transport('consumer'), pipeline.queue, pipeline.inbox, {
        event: getEventDefinition(Item),
        maxMessageBytes: 64 * 1024,
        concurrency: 20,
        prefetch: 100,
      });
      publisher = await raw.createConfirmChannel();
      const channel = publisher;
      const publishRaw = (message: OutboundMessage): void => {
        const { routingKey, content, options } = toPublication(pipeline.exchange, message);
        channel.publish(pipeline.exchange, routingKey, content, options);
      };
      const envelope = (data: object, type = pipeline.type) => createEnvelope({ type, version: 1, source: 'fault-suite', data });
      const poison: Record<string, (i: number) => OutboundMessage> = {
        TIDINGS_DECODE_FAILED: (i) => ({ ...encodeEnvelope(envelope({ seq: i })), body: new TextEncoder().encode(`{"seq": ${i}, tru`) }),
        TIDINGS_EVENT_INVALID: (i) => encodeEnvelope(envelope({ seq: `number ${i}` })),
        TIDINGS_PAYLOAD_TOO_LARGE: (i) => encodeEnvelope(envelope({ seq: i, padding: 'x'.repeat(100 * 1024) })),
        TIDINGS_UNKNOWN_EVENT_TYPE: (i) => encodeEnvelope(envelope({ seq: i }, `${pipeline.type}.unheard-of`)),
      };

      // Good events through the outbox, poison straight onto the exchange from a broken foreign producer, interleaved.
      const producer = pipeline.produce(good, 10, 5);
      for (let i = 0; i < perKind; i++) {
        for (const make of Object.values(poison)) publishRaw(make(i));
        await channel.waitForConfirms();
        await delay(5);
      }
      await producer.finished();
      const report = await pipeline.ledger.settle('poison messages among good ones', { timeoutMs: 60_000 });
      const dlq = deadLetterQueueName(pipeline.queue);
      const poisonCount = perKind * Object.keys(poison).length;
      await eventually(async () => expect((await channel.checkQueue(dlq)).messageCount).toBe(poisonCount), { timeoutMs: 30_000 });

      // Once the poison is gone, the consumer has nothing left to do: no redelivery loop burns its CPU.
      const cpuBefore = process.cpuUsage();
      const idleFrom = Date.now();
      await delay(3000);
      const cpu = process.cpuUsage(cpuBefore);
      const cpuShare = (cpu.user + cpu.system) / 1000 / (Date.now() - idleFrom);

      const codes = new Map<string, number>();
      const attempts = new Set<number>();
      for (let message = await channel.get(dlq, { noAck: true }); message; message = await channel.get(dlq, { noAck: true })) {
        const reason = deadLetterReasonOf(message.properties.headers ?? {});
        codes.set(reason.code, (codes.get(reason.code) ?? 0) + 1);
        attempts.add(reason.attempts);
      }
      process.stdout.write(
        `${describeReport(report, `${poisonCount} poison dead-lettered (${[...codes].map(([code, n]) => `${code} ${n}`).join(', ')}), ` + `attempts ${[...attempts].join('/')}; consumer CPU ${(cpuShare * 100).toFixed(1)}% of a core in the 3 s after`)}\n`,
      );
      expectClean(report);
      expect(Object.fromEntries(codes)).toEqual(Object.fromEntries(Object.keys(poison).map((code) => [code, perKind])));
      expect([...attempts]).toEqual([1]);
      // Every message reached the consumer exactly once: the good ones, and each poison message on its only attempt.
      expect(pipeline.ledger.effects.deliveries).toBe(good + poisonCount);
      expect(cpuShare).toBeLessThan(0.05);
    } finally {
      await publisher?.close().catch(() => undefined);
      await pipeline.dispose();
    }
  }, 180_000);
});
