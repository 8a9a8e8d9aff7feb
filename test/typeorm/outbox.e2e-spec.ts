import {
  createEnvelope,
  EventEnveloper,
  EventTypeRegistry,
  eventually,
  IntegrationEvent,
  MemoryTransport,
  OutboxRelay,
  PublishFailedError,
  type Envelope,
  type OutboxRelayOptions,
  type Transport,
} from '@tidings/core';
import {
  createOutboxMigrations,
  NoTransactionError,
  outboxTable,
  TransactionContext,
  TypeOrmOutbox,
  TypeOrmOutboxStore,
} from '@tidings/typeorm';
import type { DataSource } from 'typeorm';
import { silentLogger } from '../rabbitmq/rabbitmq-conformance.target.js';
import { recordDeliveries, testDatabase, type TestDatabase } from './outbox-database.js';

@IntegrationEvent('outbox.item.added')
class ItemAdded {
  constructor(
    readonly item: string,
    readonly n: number,
  ) {}
}

const envelope = (n: number, partitionKey?: string, type = 'outbox.item.added'): Envelope =>
  createEnvelope({ type, version: 1, source: 'outbox-test', data: { n }, ...(partitionKey !== undefined && { partitionKey }) });

describe('Transactional outbox on the real PostgreSQL (memory transport)', () => {
  let db: TestDatabase;
  let source: DataSource;
  let store: TypeOrmOutboxStore;
  let transport: MemoryTransport;
  const relays: OutboxRelay[] = [];

  const relay = (options: OutboxRelayOptions = {}, target: Pick<Transport, 'publish'> = transport, on = store): OutboxRelay => {
    const created = new OutboxRelay(on, target, { logger: silentLogger, pollIntervalMs: 200, ...options });
    relays.push(created);
    return created;
  };
  const add = (envelopes: readonly Envelope[], deliverAt?: Date): Promise<void> =>
    source.transaction((manager) => store.add(manager, envelopes, deliverAt ? { deliverAt } : {}));
  const pendingRows = async (): Promise<number> => (await store.backlog()).pending;
  /** The outbox table of this test's schema, as SQL names it. */
  const table = (): string => outboxTable({ schema: db.schema }).qualified;

  beforeEach(async () => {
    db = await testDatabase('outbox');
    source = await db.connect(10);
    store = new TypeOrmOutboxStore(source, { schema: db.schema });
    transport = new MemoryTransport();
    await transport.start();
  });

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    await transport.stop();
    await db.dispose();
  });

  it('publishes nothing of 100 transactions that roll back after writing to the outbox', async () => {
    const received = await recordDeliveries(transport, 'atomicity');
    const outbox = new TypeOrmOutbox(store, new EventEnveloper('outbox-test', new EventTypeRegistry()));
    for (let i = 0; i < 100; i++) {
      await expect(
        source.transaction(async (manager) => {
          await outbox.publish(manager, new ItemAdded('rolled-back', i));
          throw new Error('business rule failed after the outbox write');
        }),
      ).rejects.toThrow('business rule failed');
    }
    await source.transaction((manager) => outbox.publish(manager, new ItemAdded('committed', 100)));
    await relay().start();
    await eventually(() => expect(received).toHaveLength(1));
    expect(received.map((e) => (e.data as ItemAdded).item)).toEqual(['committed']);
    await eventually(async () => expect(await pendingRows()).toBe(0));
  });

  it('stores the whole envelope and publishes it unchanged, in commit order, then deletes the rows', async () => {
    const received = await recordDeliveries(transport, 'whole-envelope');
    const first = createEnvelope({
      type: 'outbox.item.added',
      version: 2,
      source: 'outbox-test',
      data: { nested: { list: [1, 'two', null] } },
      subject: 'item-1',
      partitionKey: 'item-1',
      correlationId: 'corr-1',
      causationId: 'cause-1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    const batch = [first, ...Array.from({ length: 49 }, (_, i) => envelope(i + 1))];
    await add(batch);
    expect(await pendingRows()).toBe(50);
    await relay().start();
    await eventually(() => expect(received).toHaveLength(50));
    expect(received[0]).toEqual(first);
    expect(received.map((e) => e.id)).toEqual(batch.map((e) => e.id));
    await eventually(async () => expect(await pendingRows()).toBe(0));
  });

  it('keeps the payload apart from the attributes, and still publishes rows written with the payload inside the envelope', async () => {
    const received = await recordDeliveries(transport, 'row-shapes');
    const [current, legacy, legacyWithoutData] = [envelope(1, 'k'), envelope(2, 'k'), envelope(3, 'k')];
    await add([current as Envelope]);
    // Rows as the outbox wrote them before its second migration: the whole envelope in one column, `data` NULL.
    for (const old of [legacy, { ...legacyWithoutData, data: undefined }] as Envelope[]) {
      await source.query(`INSERT INTO ${table()} (message_id, type, partition_key, envelope) VALUES ($1, $2, $3, $4)`, [
        old.id,
        old.type,
        old.partitionkey,
        JSON.stringify(old),
      ]);
    }
    const rows: { envelope: Record<string, unknown>; data: unknown }[] = await source.query(
      `SELECT envelope, data FROM ${table()} ORDER BY id`,
    );
    expect(rows[0]?.envelope).not.toHaveProperty('data');
    expect(rows[0]?.data).toEqual({ n: 1 });
    expect(rows[1]).toMatchObject({ envelope: { data: { n: 2 } }, data: null });

    await relay().start();
    await eventually(() => expect(received).toHaveLength(3));
    expect(received).toEqual([current, legacy, { ...legacyWithoutData, data: null }]);
  });

  it('undoes the data migration without losing a pending payload, and redoes it', async () => {
    const received = await recordDeliveries(transport, 'migration-down');
    const events = [envelope(1, 'k'), envelope(2)];
    await add(events);
    const [, dataMigration] = createOutboxMigrations({ schema: db.schema });
    const runner = source.createQueryRunner();
    try {
      await new dataMigration!().down(runner);
      const rows: { envelope: Envelope }[] = await source.query(`SELECT * FROM ${table()} ORDER BY id`);
      expect(rows.map((row) => row.envelope)).toEqual(events);
      expect(rows[0]).not.toHaveProperty('data');
      await new dataMigration!().up(runner);
    } finally {
      await runner.release();
    }
    await relay().start();
    await eventually(() => expect(received).toHaveLength(2));
    expect(received).toEqual(events);
  });

  it('refuses to write outside a transaction, and joins the TransactionContext when no manager is passed', async () => {
    const transactions = new TransactionContext(source);
    const outbox = new TypeOrmOutbox(store, new EventEnveloper('outbox-test', new EventTypeRegistry()), transactions);
    await expect(store.add(source.manager, [envelope(1)])).rejects.toThrow(NoTransactionError);
    await expect(outbox.publish(new ItemAdded('no-transaction', 1))).rejects.toThrow(NoTransactionError);
    await expect(
      transactions.run(async () => {
        await outbox.publish(new ItemAdded('joined', 2));
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await pendingRows()).toBe(0);
    await transactions.run(() => outbox.publish([new ItemAdded('joined', 3), new ItemAdded('joined', 4)], { partitionKey: 'k' }));
    const rows: { partition_key: string }[] = await source.query(`SELECT partition_key FROM ${table()} ORDER BY id`);
    expect(rows).toEqual([{ partition_key: 'k' }, { partition_key: 'k' }]);
  });

  it('wakes at once for commits in this process, by NOTIFY for commits of other processes, and polls without either', async () => {
    const received = await recordDeliveries(transport, 'wake');
    const listening = relay({ pollIntervalMs: 600_000 });
    await listening.start();
    await add([envelope(1)]); // same DataSource: the after-commit hook wakes the relay
    await eventually(() => expect(received).toHaveLength(1), { timeoutMs: 5000 });
    // Another DataSource is another process as far as wake-ups go: only its after-commit NOTIFY can reach the relay.
    const elsewhere = await db.connect(2);
    const otherWriter = new TypeOrmOutboxStore(elsewhere, { schema: db.schema, notify: true });
    await elsewhere.transaction((manager) => otherWriter.add(manager, [envelope(2)]));
    await eventually(() => expect(received).toHaveLength(2), { timeoutMs: 5000 });
    // A writer that does not notify (the default), and a relay that does not listen: the poll finds the row.
    await listening.stop();
    const silentWriter = new TypeOrmOutboxStore(elsewhere, { schema: db.schema });
    await relay({ listen: false, pollIntervalMs: 100 }).start();
    await elsewhere.transaction((manager) => silentWriter.add(manager, [envelope(3)]));
    await eventually(() => expect(received).toHaveLength(3), { timeoutMs: 5000 });
  });

  it('wakes relays only when the outermost transaction commits, not when a savepoint is released or rolled back', async () => {
    const received = await recordDeliveries(transport, 'savepoints');
    await relay({ pollIntervalMs: 600_000 }).start();
    const runner = source.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    await runner.startTransaction(); // a savepoint
    await store.add(runner.manager, [envelope(1)]);
    await runner.commitTransaction(); // releases the savepoint: nothing is visible yet
    await runner.commitTransaction();
    await runner.release();
    await eventually(() => expect(received).toHaveLength(1), { timeoutMs: 5000 });
  });

  it('publishes a deliverAt row only once it is due, without holding back its key', async () => {
    const received = await recordDeliveries(transport, 'scheduled');
    const later = envelope(1, 'key');
    await add([later], new Date(Date.now() + 1500));
    await add([envelope(2, 'key')]);
    await relay({ pollIntervalMs: 100 }).start();
    await eventually(() => expect(received).toHaveLength(1));
    // Delivery can precede the claim's commit: wait for the row to be gone.
    await eventually(async () => expect(await store.backlog()).toMatchObject({ due: 0, pending: 1 }));
    await eventually(() => expect(received.map((e) => e.id)).toContain(later.id), { timeoutMs: 5000 });
    expect(received).toHaveLength(2);
  });

  it('never skips rows that a slow transaction commits after later rows were published', async () => {
    const received = await recordDeliveries(transport, 'late');
    const slow = source.createQueryRunner();
    await slow.connect();
    await slow.startTransaction();
    const early = envelope(1);
    await store.add(slow.manager, [early]); // takes the lower id, commits last
    await relay({ pollIntervalMs: 100 }).start();
    const fast = envelope(2);
    await add([fast]);
    await eventually(() => expect(received.map((e) => e.id)).toEqual([fast.id]));
    await slow.commitTransaction();
    await slow.release();
    await eventually(() => expect(received.map((e) => e.id)).toEqual([fast.id, early.id]));
  });

  it('backs off while the broker refuses, loses nothing, and never lets a later record overtake a failed one of its key', async () => {
    const received = await recordDeliveries(transport, 'outage');
    let refusals = 0;
    const flaky: Pick<Transport, 'publish'> = {
      publish: async (envelopes) => {
        const victim = envelopes.find((e) => (e.data as { n: number }).n === 3);
        if (victim && refusals < 3) {
          refusals += 1;
          const accepted = envelopes.filter((e) => e !== victim);
          await transport.publish(accepted);
          throw new PublishFailedError([{ id: victim.id, type: victim.type, reason: 'refused', detail: 'test nack' }], accepted.length);
        }
        await transport.publish(envelopes);
      },
    };
    const batch = [1, 2, 3, 4, 5].map((n) => envelope(n, 'k'));
    await add(batch);
    const relayUnderTest = relay({ backoff: { initialMs: 50, maxMs: 200 } }, flaky);
    await relayUnderTest.start();
    await eventually(() => expect(received).toHaveLength(5), { timeoutMs: 10_000 });
    expect(received.map((e) => (e.data as { n: number }).n)).toEqual([1, 2, 3, 4, 5]);
    expect(refusals).toBe(3);
    // Delivery can precede the claim's completion, which updates the counters.
    await eventually(() => expect(relayUnderTest.stats()).toMatchObject({ failedAttempts: 3, published: 5, consecutiveFailures: 0 }));
    expect(await pendingRows()).toBe(0);
  });

  it('counts unroutable events as published to nobody instead of blocking their key', async () => {
    const withoutLog = new MemoryTransport({ brokerOptions: { eventLog: false } });
    await withoutLog.start();
    const received = await recordDeliveries(withoutLog, 'only-bound', ['outbox.bound']);
    await add([envelope(1, 'k', 'outbox.unbound'), envelope(2, 'k', 'outbox.bound')]);
    const r = relay({}, withoutLog);
    await r.start();
    await eventually(() => expect(r.stats()).toMatchObject({ published: 2, unroutable: 1, failedAttempts: 0 }));
    expect(await pendingRows()).toBe(0);
    expect(received).toHaveLength(1);
    await r.stop();
    await withoutLog.stop();
  });

  it('stop() releases a claim whose publish never finishes, and another relay publishes its records', async () => {
    const received = await recordDeliveries(transport, 'release');
    let hung = 0;
    const hanging: Pick<Transport, 'publish'> = {
      publish: () => {
        hung += 1;
        return new Promise<void>(() => undefined);
      },
    };
    await add([envelope(1), envelope(2)]);
    const stuck = relay({ stopTimeoutMs: 200 }, hanging);
    await stuck.start();
    await eventually(() => expect(hung).toBeGreaterThan(0));
    await stuck.stop();
    expect(await pendingRows()).toBe(2);
    await relay().start();
    await eventually(() => expect(received).toHaveLength(2));
  });

  it('keeps published rows for the retention period, then purges them in bounded batches', async () => {
    const keeping = new TypeOrmOutboxStore(source, { schema: db.schema, retainPublishedMs: 1000 });
    await recordDeliveries(transport, 'retention');
    await add(Array.from({ length: 25 }, (_, i) => envelope(i)));
    await relay({ purgeIntervalMs: 200, purgeBatchSize: 10 }, transport, keeping).start();
    await eventually(async () => expect(await keeping.backlog()).toMatchObject({ pending: 0 }));
    const count = async (): Promise<number> => Number((await source.query(`SELECT count(*) AS n FROM ${table()}`))[0].n);
    expect(await count()).toBe(25);
    await eventually(async () => expect(await count()).toBe(0), { timeoutMs: 5000 });
  });

  it('reports the backlog: pending, due, and the age of the oldest due row', async () => {
    await add([envelope(1), envelope(2)]);
    await add([envelope(3)], new Date(Date.now() + 60_000));
    const lag = await relay().lag();
    expect(lag).toMatchObject({ pending: 3, due: 2 });
    expect(lag.oldestDueAgeMs).toBeGreaterThanOrEqual(0);
    expect(lag.oldestDueAgeMs).toBeLessThan(10_000);
  });
});
