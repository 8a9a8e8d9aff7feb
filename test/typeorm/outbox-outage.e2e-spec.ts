import { createEnvelope, eventually, OutboxRelay, TopicPattern, type Envelope } from '@tidings/core';
import { RabbitMqTransport } from '@tidings/rabbitmq';
import { TypeOrmInboxStore, TypeOrmOutboxStore } from '@tidings/typeorm';
import { connect } from 'amqplib';
import { RABBITMQ_URL, removeTopology, silentLogger, uniquePrefix } from '../rabbitmq/rabbitmq-conformance.target.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/postgres-node.js';
import { startThrowawayRabbitMq, type ThrowawayRabbitMq } from '../support/rabbitmq-node.js';
import { EffectLedger } from './effect-ledger.js';
import { addInTransactions, testDatabase, type TestDatabase } from './outbox-database.js';

// These tests stop a broker or a database: they run throwaway instances of their own, never the shared services.

const TYPE = 'outage.item.added';
const envelopes = (n: number, from = 0): Envelope[] =>
  Array.from({ length: n }, (_, i) => createEnvelope({ type: TYPE, version: 1, source: 'outage-e2e', data: { seq: from + i } }));

describe('Outbox relay through a broker outage (throwaway RabbitMQ node)', () => {
  let node: ThrowawayRabbitMq;
  let db: TestDatabase;
  const transports: RabbitMqTransport[] = [];
  let relay: OutboxRelay | undefined;

  beforeAll(async () => {
    node = await startThrowawayRabbitMq();
  }, 120_000);

  afterAll(async () => {
    await relay?.stop();
    await Promise.all(transports.map((t) => t.stop()));
    await node.dispose();
    await db.dispose();
  }, 60_000);

  const transport = async (): Promise<RabbitMqTransport> => {
    const created = new RabbitMqTransport({
      url: node.url,
      logger: silentLogger,
      publishTimeoutMs: 2000,
      reconnect: { initialDelayMs: 200, maxDelayMs: 2000 },
    });
    transports.push(created);
    await created.start();
    return created;
  };

  it('RabbitMQ stopped for 30 s while publishing: every event is delivered after it returns, once in effect', async () => {
    db = await testDatabase('outage');
    const source = await db.connect(8);
    const ledger = new EffectLedger(source, db.schema);
    await ledger.create();
    const inbox = new TypeOrmInboxStore(source, { schema: db.schema });
    await ledger.subscribe(await transport(), 'outage.effects', inbox, { concurrency: 4 });
    const store = new TypeOrmOutboxStore(source, { schema: db.schema });
    relay = new OutboxRelay(store, await transport(), { logger: silentLogger, batchSize: 50, backoff: { initialMs: 100, maxMs: 2000 } });
    await relay.start();

    await addInTransactions(source, store, envelopes(500), 50);
    await eventually(async () => expect((await ledger.count('outage.effects')).distinct).toBeGreaterThan(0), { timeoutMs: 30_000 });
    await node.stopApp();
    // Producers keep committing while the broker is away: the outbox takes them.
    await addInTransactions(source, store, envelopes(500, 500), 50);
    await new Promise((resolve) => setTimeout(resolve, 30_000));
    const during = relay.stats();
    const backlogDuring = await store.backlog();
    await node.startApp();

    await eventually(async () => expect((await store.backlog()).pending).toBe(0), { timeoutMs: 60_000, intervalMs: 200 });
    await eventually(async () => expect(await ledger.count('outage.effects')).toEqual({ effects: 1000, distinct: 1000 }), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    process.stdout.write(
      `broker outage 30 s: backlog ${backlogDuring.pending} during, relay ${during.state} with ${during.consecutiveFailures} consecutive failures; ` +
        `after: 1000 sent, 1000 effects, 0 lost, ${inbox.stats().duplicatesSkipped} duplicates skipped\n`,
    );
    expect(backlogDuring.pending).toBeGreaterThanOrEqual(500);
    expect(during.consecutiveFailures).toBeGreaterThan(0);
    expect(relay.stats().consecutiveFailures).toBe(0);
  }, 180_000);
});

describe('Outbox relay through a database restart (throwaway PostgreSQL)', () => {
  let postgres: ThrowawayPostgres;
  let db: TestDatabase;
  let relay: OutboxRelay | undefined;
  const prefix = uniquePrefix('pgrestart');
  const exchange = `${prefix}events`;
  const transports: RabbitMqTransport[] = [];

  beforeAll(async () => {
    postgres = await startThrowawayPostgres();
  }, 60_000);

  afterAll(async () => {
    await relay?.stop();
    const raw = await connect(RABBITMQ_URL);
    await removeTopology(raw, transports, exchange);
    await raw.close();
    await db.dispose();
    await postgres.dispose();
  }, 60_000);

  it('PostgreSQL restarted (immediate stop): the relay backs off, then resumes, and NOTIFY wake-ups return', async () => {
    db = await testDatabase('pgrestart', postgres.url);
    const source = await db.connect(6);
    const consumer = new RabbitMqTransport({ url: RABBITMQ_URL, exchange, logger: silentLogger });
    const publisher = new RabbitMqTransport({ url: RABBITMQ_URL, exchange, logger: silentLogger });
    transports.push(consumer, publisher);
    await consumer.start();
    await publisher.start();
    const received = new Set<string>();
    await consumer.subscribe(
      { name: `${prefix}received`, patterns: [TopicPattern.parse('#')], prefetch: 50, concurrency: 1, retryTiersMs: [1000] },
      async (message) => {
        received.add(message.attributes['id'] ?? '');
        return { kind: 'ack' };
      },
    );
    const store = new TypeOrmOutboxStore(source, { schema: db.schema });
    // A long poll: after the restart, only a re-established LISTEN can deliver the last events quickly.
    relay = new OutboxRelay(store, publisher, { logger: silentLogger, pollIntervalMs: 600_000, backoff: { initialMs: 100, maxMs: 1000 } });
    await relay.start();
    const before = envelopes(200);
    await addInTransactions(source, store, before, 50);
    await eventually(() => expect(received.size).toBe(200), { timeoutMs: 30_000 });

    await postgres.stop('immediate');
    await eventually(() => expect(relay?.stats().consecutiveFailures).toBeGreaterThan(0), { timeoutMs: 10_000 });
    await postgres.start();

    const after = envelopes(200, 200);
    await eventually(
      async () => {
        await addInTransactions(source, store, after.slice(0, 1), 50); // retried until the pool reconnects
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    await addInTransactions(source, store, after.slice(1), 50);
    await eventually(() => expect(received.size).toBeGreaterThanOrEqual(400), { timeoutMs: 30_000 });
    expect([...before, ...after].every((e) => received.has(e.id))).toBe(true);
    expect(relay.stats().consecutiveFailures).toBe(0);
    // Every worker is idle now, waiting for a wake-up (the next poll is minutes away). A writer on another
    // DataSource is another process to the relay: only its NOTIFY, through the re-established LISTEN, can bring this one.
    const elsewhere = await db.connect(2);
    const [last] = envelopes(1, 400);
    await addInTransactions(elsewhere, new TypeOrmOutboxStore(elsewhere, { schema: db.schema, notify: true }), [last!], 50);
    await eventually(() => expect(received.has(last!.id)).toBe(true), { timeoutMs: 5000 });
  }, 120_000);
});
