import { createEnvelope, decodeMessage, eventually, OutboxRelay, TopicPattern, type Envelope, type OutboxStore } from '@tidings/core';
import { RabbitMqTransport } from '@tidings/rabbitmq';
import { TypeOrmInboxStore, TypeOrmOutboxStore } from '@tidings/typeorm';
import { connect, type ChannelModel } from 'amqplib';
import { RABBITMQ_URL, removeTopology, silentLogger, uniquePrefix } from '../rabbitmq/rabbitmq-conformance.target.js';
import { EffectLedger } from './effect-ledger.js';
import { addInTransactions, testDatabase, type TestDatabase } from './outbox-database.js';

/** One test's exchange and queues on the shared broker, its schema on the shared database, and cleanup of both. */
class OutboxOnRabbitMq {
  readonly prefix = uniquePrefix('obx');
  readonly exchange = `${this.prefix}events`;
  readonly type = `${this.prefix.replace(/[^a-z0-9-]/g, '')}.item.added`;
  private readonly transports: RabbitMqTransport[] = [];
  private readonly relays: OutboxRelay[] = [];
  private raw: ChannelModel | undefined;

  constructor(readonly db: TestDatabase) {}

  async transport(): Promise<RabbitMqTransport> {
    const transport = new RabbitMqTransport({
      url: RABBITMQ_URL,
      exchange: this.exchange,
      logger: silentLogger,
      connectionName: this.prefix,
    });
    this.transports.push(transport);
    await transport.start();
    return transport;
  }

  async relay(store: OutboxStore, options: ConstructorParameters<typeof OutboxRelay>[2] = {}): Promise<OutboxRelay> {
    const relay = new OutboxRelay(store, await this.transport(), { logger: silentLogger, pollIntervalMs: 200, ...options });
    this.relays.push(relay);
    await relay.start();
    return relay;
  }

  queue(name: string): string {
    return `${this.prefix}${name}`;
  }

  envelope(data: Record<string, unknown>, partitionKey?: string): Envelope {
    return createEnvelope({ type: this.type, version: 1, source: 'outbox-e2e', data, ...(partitionKey !== undefined && { partitionKey }) });
  }

  async dispose(): Promise<void> {
    await Promise.all(this.relays.map((r) => r.stop()));
    this.raw ??= await connect(RABBITMQ_URL);
    await removeTopology(this.raw, this.transports, this.exchange);
    await this.raw.close();
    await this.db.dispose();
  }
}

describe('Outbox relay and inbox on the real RabbitMQ and PostgreSQL', () => {
  let fixture: OutboxOnRabbitMq;

  beforeEach(async () => {
    fixture = new OutboxOnRabbitMq(await testDatabase('obxrmq'));
  });

  afterEach(() => fixture.dispose());

  it('four relays publish 10,000 rows of 100 partition keys: all arrive, no key is ever seen out of order', async () => {
    const keys = 100;
    const perKey = 100;
    const source = await fixture.db.connect(4);
    const store = new TypeOrmOutboxStore(source, { schema: fixture.db.schema });
    // Interleaved keys, so every claim mixes them; seq is the key's own order.
    const envelopes = Array.from({ length: keys * perKey }, (_, i) => fixture.envelope({ seq: Math.floor(i / keys) }, `key-${i % keys}`));
    await addInTransactions(source, store, envelopes);

    const consumer = await fixture.transport();
    const lastSeq = new Map<string, number>();
    const seen = new Set<string>();
    let inversions = 0;
    let duplicates = 0;
    await consumer.subscribe(
      { name: fixture.queue('ordered'), patterns: [TopicPattern.parse('#')], prefetch: 200, concurrency: 1, retryTiersMs: [1000] },
      async (message) => {
        const envelope = decodeMessage(message);
        if (seen.has(envelope.id)) {
          duplicates += 1;
          return { kind: 'ack' };
        }
        seen.add(envelope.id);
        const seq = (envelope.data as { seq: number }).seq;
        const key = envelope.partitionkey ?? '';
        if (seq <= (lastSeq.get(key) ?? -1)) inversions += 1;
        lastSeq.set(key, Math.max(seq, lastSeq.get(key) ?? -1));
        return { kind: 'ack' };
      },
    );
    // Each relay is a process of its own in production: its own pool and broker connection.
    const relays = await Promise.all(
      [0, 1, 2, 3].map(async () => {
        const own = await fixture.db.connect(6);
        return fixture.relay(new TypeOrmOutboxStore(own, { schema: fixture.db.schema }), { batchSize: 50 });
      }),
    );
    await eventually(() => expect(seen.size).toBe(keys * perKey), { timeoutMs: 60_000, intervalMs: 100 });
    const published = relays.map((r) => r.stats().published);
    process.stdout.write(
      `four relays: published per relay ${published.join('/')}, broker duplicates ${duplicates}, inversions ${inversions}\n`,
    );
    expect(inversions).toBe(0);
    expect(published.reduce((a, b) => a + b, 0)).toBe(keys * perKey);
    expect(published.filter((n) => n > 0).length).toBeGreaterThan(1);
    expect((await store.backlog()).pending).toBe(0);
  }, 90_000);

  it('a relay that dies between the confirm and the delete publishes again; the inbox keeps the effect single', async () => {
    const source = await fixture.db.connect(8);
    const store = new TypeOrmOutboxStore(source, { schema: fixture.db.schema });
    const ledger = new EffectLedger(source, fixture.db.schema);
    await ledger.create();
    const inbox = new TypeOrmInboxStore(source, { schema: fixture.db.schema });
    await ledger.subscribe(await fixture.transport(), fixture.queue('effects'), inbox, { concurrency: 4 });
    const envelopes = Array.from({ length: 200 }, (_, i) => fixture.envelope({ seq: i }));
    await addInTransactions(source, store, envelopes);

    // The first claims "crash" after the broker confirmed them: the transaction rolls back, as when the process dies.
    let crashes = 0;
    const crashing: OutboxStore = {
      backlog: () => store.backlog(),
      claim: async (limit) => {
        const claim = await store.claim(limit);
        if (!claim || crashes >= 2) return claim;
        crashes += 1;
        return {
          records: claim.records,
          release: () => claim.release(),
          complete: async () => {
            await claim.release();
            throw new Error('relay process died before marking the rows');
          },
        };
      },
    };
    const relay = await fixture.relay(crashing, { batchSize: 50, batchesInFlight: 1, backoff: { initialMs: 10, maxMs: 50 } });
    await eventually(async () => expect((await store.backlog()).pending).toBe(0), { timeoutMs: 30_000 });
    await eventually(async () => expect(await ledger.count(fixture.queue('effects'))).toEqual({ effects: 200, distinct: 200 }), {
      timeoutMs: 30_000,
    });
    await eventually(() => expect(inbox.stats()).toEqual({ handled: 200, duplicatesSkipped: 100 }));
    expect(ledger.deliveries).toBe(300);
    expect(crashes).toBe(2);
    expect(relay.stats().published).toBe(200);
  }, 60_000);

  it('the same message id published three times, to two competing consumers handling concurrently, has one effect', async () => {
    const source = await fixture.db.connect(10);
    const ledger = new EffectLedger(source, fixture.db.schema);
    await ledger.create();
    const inbox = new TypeOrmInboxStore(source, { schema: fixture.db.schema });
    const queue = fixture.queue('twice');
    await ledger.subscribe(await fixture.transport(), queue, inbox, { concurrency: 8 });
    await ledger.subscribe(await fixture.transport(), queue, inbox, { concurrency: 8 });
    const publisher = await fixture.transport();
    const messages = Array.from({ length: 50 }, (_, i) => fixture.envelope({ seq: i }));
    // Serially: three publishes of each message, one after the other.
    for (const envelope of messages.slice(0, 25)) for (let copy = 0; copy < 3; copy++) await publisher.publish([envelope]);
    // Concurrently: all three copies in one publish, so both consumers may hold copies at once.
    await publisher.publish(messages.slice(25).flatMap((envelope) => [envelope, envelope, envelope]));
    await eventually(() => expect(inbox.stats()).toEqual({ handled: 50, duplicatesSkipped: 100 }), { timeoutMs: 30_000 });
    expect(ledger.deliveries).toBe(150);
    expect(await ledger.count(queue)).toEqual({ effects: 50, distinct: 50 });
  }, 60_000);
});
