import 'reflect-metadata';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  createEnvelope,
  eventually,
  IntegrationEvent,
  NonRetryableError,
  type BatchedEvent,
  type Envelope,
  type EventContext,
} from '@tidings/core';
import { EventBusModule, OnEvent } from '@tidings/nestjs';
import { deadLetterQueueName, RabbitMqTransport, retryQueueName } from '@tidings/rabbitmq';
import { TypeOrmInboxStore } from '@tidings/typeorm';
import { connect, type ChannelModel } from 'amqplib';
import type { DataSource } from 'typeorm';
import { RABBITMQ_URL, removeTopology, silentLogger, uniquePrefix } from '../rabbitmq/rabbitmq-conformance.target.js';
import { startNodeProcess, type NodeProcess } from '../support/node-process.js';
import { EffectLedger } from './effect-ledger.js';
import { testDatabase, type TestDatabase } from './outbox-database.js';

// Group commit and batch handlers of a Nest application on the real RabbitMQ and PostgreSQL, and a grouped consumer
// SIGKILLed at random while it drains 10,000 messages. Every count is checked: sent = handled once + dead-lettered.

@IntegrationEvent('group-commit.item.added')
class ItemAdded {
  declare readonly seq: number;
  declare readonly failOnce?: boolean;
}

@IntegrationEvent('group-commit.item.batched')
class ItemBatched {
  declare readonly seq: number;
  declare readonly poison?: boolean;
}

interface Call {
  readonly seq: number;
  readonly attempt: number;
  readonly txid: string;
}

/** Shared by the handlers: the inbox (whose transaction they write in), the table and what they saw. */
class Ledger {
  readonly calls: Call[] = [];
  readonly batches: number[][] = [];
  constructor(
    readonly inbox: TypeOrmInboxStore,
    readonly table: string,
  ) {}

  /** Writes one effect row per event in the delivery's (or batch's) transaction; returns that transaction's id. */
  async write(events: readonly { seq: number; context: EventContext }[]): Promise<string> {
    const values = events.map((_, i) => `($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4}, txid_current())`).join(', ');
    const rows: { txid: string }[] = await this.inbox.manager().query(
      `INSERT INTO ${this.table} (subscription, message_id, partition_key, seq, txid) VALUES ${values} RETURNING txid::text`,
      events.flatMap(({ seq, context }) => [context.subscription, context.envelope.id, context.envelope.partitionkey ?? null, seq]),
    );
    return rows[0]!.txid;
  }
}

@Injectable()
class Items {
  constructor(private readonly ledger: Ledger) {}

  @OnEvent(ItemAdded, { subscription: 'items', transactional: true })
  async onItemAdded(item: ItemAdded, context: EventContext): Promise<void> {
    const txid = await this.ledger.write([{ seq: item.seq, context }]);
    this.ledger.calls.push({ seq: item.seq, attempt: context.attempt, txid });
    // After writing, so the test sees that the savepoint took the write back.
    if (item.failOnce && context.attempt === 1) throw new Error(`downstream refused item ${item.seq} once`);
  }
}

@Injectable()
class BatchedItems {
  constructor(private readonly ledger: Ledger) {}

  @OnEvent(ItemBatched, { subscription: 'batched', transactional: true, batch: { size: 25 } })
  async onItemsBatched(events: readonly BatchedEvent<ItemBatched>[]): Promise<void> {
    this.ledger.batches.push(events.map((e) => e.data.seq));
    await this.ledger.write(events.map((e) => ({ seq: e.data.seq, context: e.context })));
    const poison = events.find((e) => e.data.poison);
    if (poison) throw new NonRetryableError(`item ${poison.data.seq} can never be stored`);
  }
}

describe('Group commit and batch handlers (real RabbitMQ and PostgreSQL)', () => {
  const prefix = uniquePrefix('group');
  const exchange = `${prefix}events`;
  const service = prefix.replace(/[^a-z0-9-]/g, '-').replace(/-+$/, '');
  let db: TestDatabase;
  let source: DataSource;
  let raw: ChannelModel;
  let app: INestApplicationContext;
  let ledger: Ledger;
  const transports: RabbitMqTransport[] = [];
  const children: NodeProcess[] = [];

  const transport = (): RabbitMqTransport => {
    const created = new RabbitMqTransport({ url: RABBITMQ_URL, exchange, logger: silentLogger, connectionName: prefix });
    transports.push(created);
    return created;
  };

  beforeAll(async () => {
    db = await testDatabase('group');
    source = await db.connect(8);
    await new EffectLedger(source, db.schema).create();
    const table = `"${db.schema}".grouped_effects`;
    await source.query(
      `CREATE TABLE ${table} (n bigserial PRIMARY KEY, subscription text, message_id text, partition_key text, seq int, txid bigint)`,
    );
    raw = await connect(RABBITMQ_URL);
    ledger = new Ledger(new TypeOrmInboxStore(source, { schema: db.schema }), table);

    @Module({
      imports: [
        EventBusModule.forRoot({
          service,
          transport: transport(),
          inbox: ledger.inbox,
          logger: silentLogger,
          defaults: { retry: { maxAttempts: 3, initialDelayMs: 200, jitter: 0, tiersMs: [200] } },
        }),
      ],
      providers: [{ provide: Ledger, useValue: ledger }, Items, BatchedItems],
    })
    class AppModule {}
    app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    await app.init();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill()));
    await app?.close();
    // The child's queues: its transport was SIGKILLed, so it cannot say what it declared.
    const killed = `${prefix}killed`;
    await removeTopology(raw, transports, exchange, [killed, deadLetterQueueName(killed), retryQueueName(killed, 50)]);
    await raw.close();
    await db.dispose();
  });

  const publisher = async (): Promise<RabbitMqTransport> => {
    const created = transport();
    await created.start();
    return created;
  };
  const effects = async (subscription: string): Promise<{ seq: number; partition_key: string | null; txid: string }[]> =>
    source.query(`SELECT seq, partition_key, txid::text FROM ${ledger.table} WHERE subscription = $1 ORDER BY n`, [subscription]);

  it('rolls back only the delivery whose handler threw: the rest of its group commits, and only it is retried', async () => {
    const sent = Array.from({ length: 40 }, (_, seq) =>
      createEnvelope({ type: 'group-commit.item.added', version: 1, source: 'test', data: { seq, failOnce: seq === 17 } }),
    );
    await (await publisher()).publish(sent);
    const subscription = `${service}.items`;
    await eventually(async () => expect((await effects(subscription)).length).toBe(40), { timeoutMs: 30_000 });

    const rows = await effects(subscription);
    expect(new Set(rows.map((r) => r.seq)).size).toBe(40);
    // The group runs without savepoints first: 17's failure rolls back the handlers that ran before it in its group,
    // which run once more (with savepoints, 17 left out); 17 alone is retried, on attempt 2.
    const failed = ledger.calls.find((c) => c.seq === 17 && c.attempt === 1)!;
    const rolledBack = ledger.calls.filter((c) => c.txid === failed.txid && c.seq !== 17).map((c) => c.seq);
    expect(rows.filter((r) => r.txid === failed.txid)).toEqual([]);
    const attemptsPerSeq = new Map<number, number[]>();
    for (const call of ledger.calls) attemptsPerSeq.set(call.seq, [...(attemptsPerSeq.get(call.seq) ?? []), call.attempt]);
    const repeated = [...attemptsPerSeq.entries()].filter(([, attempts]) => attempts.length !== 1);
    expect(new Map(repeated)).toEqual(new Map([[17, [1, 2]], ...rolledBack.map((seq): [number, number[]] => [seq, [1, 1]])]));
    const transactions = new Set(rows.map((r) => r.txid)).size;
    process.stdout.write(
      `group commit: 40 sent, 40 effects in ${transactions} transactions; item 17 failed on attempt 1, rolling back ` +
        `${rolledBack.length} handler run(s) before it in its group, which ran again and committed; 17 succeeded on attempt 2\n`,
    );
    expect(transactions).toBeLessThan(20);
  }, 60_000);

  it('a poison event inside a batch ends in the dead-letter queue alone; the rest of its batch commits', async () => {
    const sent = Array.from({ length: 60 }, (_, seq) =>
      createEnvelope({ type: 'group-commit.item.batched', version: 1, source: 'test', data: { seq, poison: seq === 23 } }),
    );
    await (await publisher()).publish(sent);
    const subscription = `${service}.batched`;
    const dlq = `${subscription}.dlq`;
    const channel = await raw.createChannel();
    await eventually(async () => expect((await effects(subscription)).length).toBe(59), { timeoutMs: 30_000 });
    await eventually(async () => expect((await channel.checkQueue(dlq)).messageCount).toBe(1), { timeoutMs: 10_000 });
    const dead = await channel.get(dlq, { noAck: true });
    await channel.close();

    const rows = await effects(subscription);
    expect(new Set(rows.map((r) => r.seq)).size).toBe(59);
    expect(rows.map((r) => r.seq)).not.toContain(23);
    expect(dead && dead.properties.headers?.['cloudEvents_id']).toBe(sent[23]!.id);
    const multi = ledger.batches.filter((b) => b.length > 1);
    process.stdout.write(
      `batch handler: 60 sent, 59 effects + 1 dead letter (item 23); calls ${ledger.batches.map((b) => b.length).join(',')}\n`,
    );
    expect(multi.length).toBeGreaterThan(0);
    expect(ledger.batches.filter((b) => b.length === 1 && b[0] === 23).length).toBe(1);
  }, 60_000);

  it('keeps the order of each partition key while groups commit side by side', async () => {
    const keys = Array.from({ length: 20 }, (_, k) => `key-${k}`);
    const sent: Envelope[] = [];
    for (let seq = 0; seq < 50; seq++) {
      for (const key of keys) {
        sent.push(createEnvelope({ type: 'group-commit.item.added', version: 1, source: 'test', partitionKey: key, data: { seq } }));
      }
    }
    const before = (await effects(`${service}.items`)).length;
    await (await publisher()).publish(sent);
    await eventually(async () => expect((await effects(`${service}.items`)).length).toBe(before + 1000), { timeoutMs: 60_000 });
    const rows = (await effects(`${service}.items`)).slice(before);
    let inversions = 0;
    for (const key of keys) {
      const seqs = rows.filter((r) => r.partition_key === key).map((r) => r.seq);
      expect(seqs).toHaveLength(50);
      inversions += seqs.filter((seq, i) => i > 0 && seq < seqs[i - 1]!).length;
    }
    const transactions = new Set(rows.map((r) => r.txid)).size;
    process.stdout.write(`ordering: 1000 events over 20 keys in ${transactions} transactions, ${inversions} per-key inversions\n`);
    expect(inversions).toBe(0);
  }, 90_000);

  it('a grouped consumer SIGKILLed at random while draining 10,000 messages: 10,000 effects, 0 lost, 0 doubled', async () => {
    const queue = `${prefix}killed`;
    const child = (): NodeProcess => {
      const started = startNodeProcess('test/typeorm/processes/consumer.process.mjs', {
        MODE: 'drain',
        POSTGRES_URL: db.url,
        SCHEMA: db.schema,
        RABBITMQ_URL,
        EXCHANGE: exchange,
        QUEUE: queue,
      });
      children.push(started);
      return started;
    };
    const first = child();
    await first.waitForLine(/^ready$/);
    const sent = Array.from({ length: 10_000 }, (_, seq) =>
      createEnvelope({ type: 'group-commit.item.killed', version: 1, source: 'test', data: { seq } }),
    );
    await (await publisher()).publish(sent);

    const ledgerOfKills = new EffectLedger(source, db.schema);
    const atKill: number[] = [];
    let consumer = first;
    for (let kill = 0; kill < 6; kill++) {
      await new Promise((resolve) => setTimeout(resolve, 80 + Math.random() * 250));
      await consumer.kill('SIGKILL');
      atKill.push((await ledgerOfKills.count(queue)).effects);
      consumer = child();
      await consumer.waitForLine(/^ready$/);
    }
    await eventually(async () => expect((await ledgerOfKills.count(queue)).effects).toBeGreaterThanOrEqual(10_000), {
      timeoutMs: 120_000,
      intervalMs: 250,
    });
    // Anything still in flight lands now, or never: a doubled effect would show up here.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const counted = await ledgerOfKills.count(queue);
    process.stdout.write(
      `grouped consumer SIGKILL x6: effects at each kill ${atKill.join(', ')}; 10000 sent, ${counted.effects} effects, ` +
        `${counted.distinct} distinct, ${10_000 - counted.distinct} lost\n`,
    );
    expect(counted).toEqual({ effects: 10_000, distinct: 10_000 });
    // The kills landed while draining, not before or after it.
    expect(atKill.filter((n) => n > 0 && n < 10_000).length).toBeGreaterThanOrEqual(3);
  }, 240_000);
});
