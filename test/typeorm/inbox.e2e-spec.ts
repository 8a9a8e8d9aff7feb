import {
  createEnvelope,
  encodeEnvelope,
  ErrorClassifier,
  HandlerPipeline,
  RetryPolicy,
  TopicPattern,
  type InboundMessage,
} from '@tidings/core';
import { NoTransactionError, TypeOrmInboxStore } from '@tidings/typeorm';
import type { DataSource } from 'typeorm';
import { testDatabase, type TestDatabase } from './outbox-database.js';

/** A schema of the test's own (inbox and outbox migrated) with an effects table without uniqueness. */
async function database(): Promise<TestDatabase> {
  const db = await testDatabase('inbox');
  const admin = await db.connect(1);
  await admin.query(`CREATE TABLE "${db.schema}".effects (consumer text NOT NULL, message_id text NOT NULL)`);
  return db;
}

describe('TypeOrmInboxStore on the real PostgreSQL', () => {
  let db: TestDatabase;
  let source: DataSource;
  let inbox: TypeOrmInboxStore;

  beforeEach(async () => {
    db = await database();
    source = await db.connect();
    inbox = new TypeOrmInboxStore(source, { schema: db.schema });
  });

  afterEach(() => db.dispose());

  const effect = (consumer: string, messageId: string) => () =>
    inbox
      .manager()
      .query(`INSERT INTO "${db.schema}".effects (consumer, message_id) VALUES ($1, $2)`, [consumer, messageId])
      .then(() => undefined);
  const effects = async (): Promise<string[]> =>
    ((await source.query(`SELECT consumer || '/' || message_id AS k FROM "${db.schema}".effects ORDER BY 1`)) as { k: string }[]).map(
      (r) => r.k,
    );
  const inboxRows = async (): Promise<number> =>
    Number(((await source.query(`SELECT count(*) AS n FROM "${db.schema}".tidings_inbox`)) as { n: string }[])[0]?.n);

  it('runs a message once per consumer: a redelivery is skipped, the effect and the inbox row commit together', async () => {
    const key = { messageId: 'm1', consumer: 'notifications.answers' };

    expect(await inbox.runOnce(key, effect(key.consumer, key.messageId))).toBe(true);
    expect(await inbox.runOnce(key, effect(key.consumer, key.messageId))).toBe(false);
    expect(await inbox.runOnce(key, effect(key.consumer, key.messageId))).toBe(false);

    expect(await effects()).toEqual(['notifications.answers/m1']);
    expect(await inboxRows()).toBe(1);
  });

  it('gives each consumer of a fanned-out message its own effect', async () => {
    await inbox.runOnce({ messageId: 'm2', consumer: 'feed.projection' }, effect('feed.projection', 'm2'));
    await inbox.runOnce({ messageId: 'm2', consumer: 'notifications.answers' }, effect('notifications.answers', 'm2'));

    expect(await effects()).toEqual(['feed.projection/m2', 'notifications.answers/m2']);
  });

  it('rolls back the inbox row with the effects when the handler throws, so the retry runs it again', async () => {
    const key = { messageId: 'm3', consumer: 'c' };
    const failing = async (): Promise<void> => {
      await effect('c', 'm3')();
      throw new Error('downstream timed out');
    };

    await expect(inbox.runOnce(key, failing)).rejects.toThrow('downstream timed out');
    expect(await effects()).toEqual([]);
    expect(await inboxRows()).toBe(0);

    expect(await inbox.runOnce(key, effect('c', 'm3'))).toBe(true);
    expect(await effects()).toEqual(['c/m3']);
  });

  it('lets exactly one of two consumer instances handle the same message delivered to both at once', async () => {
    const other = new TypeOrmInboxStore(await db.connect(), { schema: db.schema });
    const key = { messageId: 'm4', consumer: 'c' };
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let firstInside!: () => void;
    const inside = new Promise<void>((resolve) => (firstInside = resolve));

    // The first holds its transaction open (inbox row inserted, not committed) while the second arrives.
    const first = inbox.runOnce(key, async () => {
      await effect('c', 'm4')();
      firstInside();
      await held;
    });
    await inside;
    const second = other.runOnce(key, async () => {
      await other.manager().query(`INSERT INTO "${db.schema}".effects (consumer, message_id) VALUES ('c', 'm4')`);
    });
    release();

    expect((await Promise.all([first, second])).sort()).toEqual([false, true]);
    expect(await effects()).toEqual(['c/m4']);
  });

  it('runs a concurrent duplicate after all when the first delivery rolled back', async () => {
    const other = new TypeOrmInboxStore(await db.connect(), { schema: db.schema });
    const key = { messageId: 'm5', consumer: 'c' };
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let firstInside!: () => void;
    const inside = new Promise<void>((resolve) => (firstInside = resolve));

    const first = inbox.runOnce(key, async () => {
      firstInside();
      await held;
      throw new Error('first attempt failed');
    });
    await inside;
    const second = other.runOnce(key, async () => {
      await other.manager().query(`INSERT INTO "${db.schema}".effects (consumer, message_id) VALUES ('c', 'm5')`);
    });
    release();

    await expect(first).rejects.toThrow('first attempt failed');
    expect(await second).toBe(true);
    expect(await effects()).toEqual(['c/m5']);
  });

  it('gives the transaction only inside a handler', () => {
    expect(() => inbox.manager()).toThrow(NoTransactionError);
  });

  it('dedupes through the HandlerPipeline: the same message delivered three times has one effect', async () => {
    const handled: number[] = [];
    const pipeline = new HandlerPipeline({
      subscription: 'billing.invoices',
      inbox,
      handlers: [
        {
          name: 'invoice',
          target: { patterns: [TopicPattern.parse('billing.#')] },
          handle: async (_data, context) => {
            handled.push(context.attempt);
            await inbox
              .manager()
              .query(`INSERT INTO "${db.schema}".effects (consumer, message_id) VALUES ($1, $2)`, [
                context.subscription,
                context.envelope.id,
              ]);
          },
          retry: new RetryPolicy(),
          classifier: new ErrorClassifier(),
        },
      ],
    });
    const envelope = createEnvelope({ type: 'billing.order.placed', version: 1, source: 'shop', data: { orderId: 'o1' } });
    const message: InboundMessage = { ...encodeEnvelope(envelope), attempt: 1 };

    const outcomes = [await pipeline.deliver(message), await pipeline.deliver(message), await pipeline.deliver({ ...message, attempt: 2 })];

    expect(outcomes).toEqual([{ kind: 'ack' }, { kind: 'ack' }, { kind: 'ack' }]);
    expect(handled).toEqual([1]);
    expect(await effects()).toEqual([`billing.invoices/${envelope.id}`]);
  });

  it('deletes old rows in bounded batches', async () => {
    for (let i = 0; i < 25; i++) await inbox.runOnce({ messageId: `old${i}`, consumer: 'c' }, async () => undefined);
    await source.query(`UPDATE "${db.schema}".tidings_inbox SET handled_at = now() - interval '8 days'`);
    await inbox.runOnce({ messageId: 'recent', consumer: 'c' }, async () => undefined);
    const cutoff = new Date(Date.now() - 7 * 24 * 3600 * 1000);

    expect(await inbox.deleteHandledBefore(cutoff, 10)).toBe(10);
    expect(await inbox.deleteHandledBefore(cutoff, 10)).toBe(10);
    expect(await inbox.deleteHandledBefore(cutoff, 10)).toBe(5);
    expect(await inbox.deleteHandledBefore(cutoff, 10)).toBe(0);
    expect(await inboxRows()).toBe(1);
  });

  it('purges rows past its retention (default 7 days), keeping newer ones', async () => {
    for (let i = 0; i < 3; i++) await inbox.runOnce({ messageId: `old${i}`, consumer: 'c' }, async () => undefined);
    await source.query(`UPDATE "${db.schema}".tidings_inbox SET handled_at = now() - interval '7 days 1 minute'`);
    await inbox.runOnce({ messageId: 'day-old', consumer: 'c' }, async () => undefined);
    await source.query(`UPDATE "${db.schema}".tidings_inbox SET handled_at = now() - interval '1 day' WHERE message_id = 'day-old'`);
    expect(inbox.retentionMs).toBe(7 * 24 * 3600 * 1000);
    expect(await inbox.purgeExpired(2)).toBe(2);
    expect(await inbox.purgeExpired(2)).toBe(1);
    expect(await inboxRows()).toBe(1);
    expect(inbox.stats()).toEqual({ handled: 4, duplicatesSkipped: 0 });
  });
});
