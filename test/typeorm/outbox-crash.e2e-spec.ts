import { createEnvelope, eventually, type Envelope } from '@tidings/core';
import { deadLetterQueueName, RabbitMqTransport, retryQueueName } from '@tidings/rabbitmq';
import { TypeOrmInboxStore, TypeOrmOutboxStore } from '@tidings/typeorm';
import { connect } from 'amqplib';
import type { DataSource } from 'typeorm';
import { RABBITMQ_URL, removeTopology, silentLogger, uniquePrefix } from '../rabbitmq/rabbitmq-conformance.target.js';
import { startNodeProcess, type NodeProcess } from '../support/node-process.js';
import { EffectLedger } from './effect-ledger.js';
import { addInTransactions, testDatabase, type TestDatabase } from './outbox-database.js';

// Relays and consumers run as child processes on the built packages and die by SIGKILL, as in production.

describe('Outbox and inbox when processes are killed (real RabbitMQ and PostgreSQL)', () => {
  const prefix = uniquePrefix('crash');
  const exchange = `${prefix}events`;
  const type = `${prefix.replace(/[^a-z0-9-]/g, '')}.item.added`;
  let db: TestDatabase;
  let source: DataSource;
  const transports: RabbitMqTransport[] = [];
  const children: NodeProcess[] = [];

  const transport = async (): Promise<RabbitMqTransport> => {
    const created = new RabbitMqTransport({ url: RABBITMQ_URL, exchange, logger: silentLogger, connectionName: prefix });
    transports.push(created);
    await created.start();
    return created;
  };
  const envelope = (seq: number): Envelope => createEnvelope({ type, version: 1, source: 'crash-e2e', data: { seq } });
  const child = (script: string, env: Record<string, string> = {}): NodeProcess => {
    const started = startNodeProcess(script, {
      POSTGRES_URL: db.url,
      SCHEMA: db.schema,
      RABBITMQ_URL,
      EXCHANGE: exchange,
      ...env,
    });
    children.push(started);
    return started;
  };

  beforeAll(async () => {
    db = await testDatabase('crash');
    source = await db.connect(8);
    await new EffectLedger(source, db.schema).create();
  });

  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill()));
    const raw = await connect(RABBITMQ_URL);
    // The killed child's queues too: it cannot say what it declared.
    const killed = `${prefix}killed`;
    await removeTopology(raw, transports, exchange, [`${prefix}drained`, killed, deadLetterQueueName(killed), retryQueueName(killed, 50)]);
    await raw.close();
    await db.dispose();
  });

  it('a relay SIGKILLed 10 times while draining 1,000 events: 1,000 effects, 0 lost, 0 duplicate effects', async () => {
    const queue = `${prefix}drained`;
    const ledger = new EffectLedger(source, db.schema);
    const inbox = new TypeOrmInboxStore(source, { schema: db.schema });
    await ledger.subscribe(await transport(), queue, inbox, { concurrency: 8 });
    const store = new TypeOrmOutboxStore(source, { schema: db.schema });
    const all = Array.from({ length: 1000 }, (_, i) => envelope(i));
    await addInTransactions(source, store, all);

    const pendingAtKill: number[] = [];
    for (let kill = 0; kill < 10; kill++) {
      const relay = child('test/typeorm/processes/relay.process.mjs', { PAUSE_AFTER_CONFIRM_MS: '40' });
      await relay.waitForLine(/^ready$/);
      await new Promise((resolve) => setTimeout(resolve, 30 + Math.random() * 150));
      await relay.kill('SIGKILL');
      pendingAtKill.push((await store.backlog()).pending);
    }
    const survivor = child('test/typeorm/processes/relay.process.mjs');
    await survivor.waitForLine(/^ready$/);
    await eventually(async () => expect((await store.backlog()).pending).toBe(0), { timeoutMs: 60_000, intervalMs: 100 });
    await eventually(async () => expect(await ledger.count(queue)).toEqual({ effects: 1000, distinct: 1000 }), { timeoutMs: 60_000 });
    await survivor.kill('SIGTERM');
    const duplicates = inbox.stats().duplicatesSkipped;
    process.stdout.write(
      `relay SIGKILL x10: pending after each kill ${pendingAtKill.join(', ')}; 1000 sent, 1000 effects, 0 lost, ` +
        `${duplicates} broker-level duplicates skipped by the inbox\n`,
    );
    // The kills landed while draining, not before or after it.
    expect(pendingAtKill.filter((pending) => pending > 0 && pending < 1000).length).toBeGreaterThanOrEqual(5);
    expect(ledger.deliveries).toBe(1000 + duplicates);
  }, 180_000);

  it('a consumer SIGKILLed after its transaction committed, before the ack: the redelivery is acked without running again', async () => {
    const queue = `${prefix}killed`;
    const consumer = child('test/typeorm/processes/consumer.process.mjs', { QUEUE: queue });
    await consumer.waitForLine(/^ready$/);
    const sent = envelope(1);
    const publisher = await transport();
    await publisher.publish([sent]);
    await consumer.waitForLine(new RegExp(`^committed ${sent.id}$`));
    await consumer.kill('SIGKILL');

    const ledger = new EffectLedger(source, db.schema);
    const inbox = new TypeOrmInboxStore(source, { schema: db.schema });
    await ledger.subscribe(await transport(), queue, inbox);
    await eventually(() => expect(inbox.stats()).toEqual({ handled: 0, duplicatesSkipped: 1 }), { timeoutMs: 30_000 });
    expect(await ledger.count(queue)).toEqual({ effects: 1, distinct: 1 });
  }, 60_000);
});
