import type { InboxGroupEntry } from '@tidings/core';
import { TypeOrmInboxStore } from '@tidings/typeorm';
import { DataSource } from 'typeorm';
import { testDatabase, type TestDatabase } from './outbox-database.js';

/** runGroup and runBatch of the TypeORM inbox against the real PostgreSQL: savepoints, claims, duplicates, rollbacks. */
describe('TypeOrmInboxStore group commit and batches on the real PostgreSQL', () => {
  let db: TestDatabase;
  let source: DataSource;
  let inbox: TypeOrmInboxStore;

  beforeEach(async () => {
    db = await testDatabase('inbox_group');
    source = await db.connect();
    await source.query(`CREATE TABLE "${db.schema}".effects (message_id text NOT NULL, note text)`);
    inbox = new TypeOrmInboxStore(source, { schema: db.schema });
  });

  afterEach(() => db.dispose());

  const write =
    (messageId: string, note = '') =>
    () =>
      inbox
        .manager()
        .query(`INSERT INTO "${db.schema}".effects (message_id, note) VALUES ($1, $2)`, [messageId, note])
        .then(() => undefined);
  const effects = async (): Promise<string[]> =>
    ((await source.query(`SELECT message_id AS k FROM "${db.schema}".effects ORDER BY 1`)) as { k: string }[]).map((r) => r.k);
  const inboxIds = async (): Promise<string[]> =>
    ((await source.query(`SELECT message_id AS k FROM "${db.schema}".tidings_inbox ORDER BY 1`)) as { k: string }[]).map((r) => r.k);
  const transactionIds = new Set<string>();
  const recordTransaction = () => () =>
    inbox
      .manager()
      .query('SELECT txid_current()::text AS id')
      .then((rows: { id: string }[]) => void transactionIds.add(rows[0]!.id));

  it('runs a group in one transaction; a throwing handler undoes only its own writes and inbox row (savepoints always)', async () => {
    inbox = new TypeOrmInboxStore(source, { schema: db.schema, savepoints: 'always' });
    transactionIds.clear();
    const results = await inbox.runGroup('c', [
      { messageId: 'm1', work: async () => (await write('m1')(), await recordTransaction()()) },
      {
        messageId: 'm2',
        work: async () => {
          await write('m2')();
          throw new Error('handler of m2 failed after writing');
        },
      },
      { messageId: 'm3', work: async () => (await write('m3')(), await recordTransaction()()) },
    ]);
    expect(results.map((r) => r.kind)).toEqual(['handled', 'failed', 'handled']);
    expect(results[1]).toEqual({ kind: 'failed', error: new Error('handler of m2 failed after writing') });
    expect(transactionIds.size).toBe(1);
    expect(await effects()).toEqual(['m1', 'm3']);
    expect(await inboxIds()).toEqual(['m1', 'm3']);
    expect(inbox.stats()).toEqual({ handled: 2, duplicatesSkipped: 0 });
  });

  it('by default runs a group without savepoints, and after a failure runs the others again in savepoints', async () => {
    const queries: string[] = [];
    const logged = new DataSource({
      type: 'postgres',
      url: db.url,
      schema: db.schema,
      poolSize: 2,
      logging: ['query'],
      logger: {
        logQuery: (query: string) => void queries.push(query),
        logQueryError: () => undefined,
        logQuerySlow: () => undefined,
        logSchemaBuild: () => undefined,
        logMigration: () => undefined,
        log: () => undefined,
      },
    });
    await logged.initialize();
    try {
      const store = new TypeOrmInboxStore(logged, { schema: db.schema });
      const runs: string[] = [];
      const counted =
        (id: string, fail = false) =>
        async () => {
          runs.push(id);
          await store.manager().query(`INSERT INTO "${db.schema}".effects (message_id) VALUES ($1)`, [id]);
          if (fail) throw new Error(`handler of ${id} failed after writing`);
        };
      const clean = await store.runGroup('c', [
        { messageId: 'a1', work: counted('a1') },
        { messageId: 'a2', work: counted('a2') },
      ]);
      expect(clean.map((r) => r.kind)).toEqual(['handled', 'handled']);
      expect(queries.filter((q) => /SAVEPOINT/.test(q))).toEqual([]);
      expect(runs).toEqual(['a1', 'a2']);

      runs.length = 0;
      const results = await store.runGroup('c', [
        { messageId: 'm1', work: counted('m1') },
        { messageId: 'm2', work: counted('m2', true) },
        { messageId: 'm3', work: counted('m3') },
      ]);
      expect(results.map((r) => r.kind)).toEqual(['handled', 'failed', 'handled']);
      expect(results[1]).toEqual({ kind: 'failed', error: new Error('handler of m2 failed after writing') });
      // m1's first run was rolled back with m2's; m2 is not run again (its retry will), m3 runs once, in a savepoint.
      expect(runs).toEqual(['m1', 'm2', 'm1', 'm3']);
      expect(queries.filter((q) => /SAVEPOINT/.test(q)).length).toBeGreaterThan(0);
      expect(await effects()).toEqual(['a1', 'a2', 'm1', 'm3']);
      expect(await inboxIds()).toEqual(['a1', 'a2', 'm1', 'm3']);
      expect(store.stats()).toEqual({ handled: 4, duplicatesSkipped: 0 });
    } finally {
      await logged.destroy();
    }
  });

  it.each(['on-failure', 'always'] as const)('recovers the group after a handler whose SQL failed (savepoints %s)', async (savepoints) => {
    inbox = new TypeOrmInboxStore(source, { schema: db.schema, savepoints });
    const results = await inbox.runGroup('c', [
      { messageId: 'm1', work: write('m1') },
      {
        messageId: 'm2',
        work: () =>
          inbox
            .manager()
            .query('SELECT 1/0')
            .then(() => undefined),
      },
      { messageId: 'm3', work: write('m3') },
    ]);
    expect(results.map((r) => r.kind)).toEqual(['handled', 'failed', 'handled']);
    expect(await effects()).toEqual(['m1', 'm3']);
  });

  it('skips ids handled before and repeats within the group, and runs a failed one again later', async () => {
    await inbox.runGroup('c', [
      { messageId: 'm1', work: write('m1') },
      { messageId: 'm2', work: () => Promise.reject(new Error('transient')) },
    ]);
    const results = await inbox.runGroup('c', [
      { messageId: 'm1', work: write('m1', 'again') },
      { messageId: 'm2', work: write('m2') },
      { messageId: 'm2', work: write('m2', 'again') },
    ]);
    expect(results.map((r) => r.kind)).toEqual(['duplicate', 'handled', 'duplicate']);
    expect(await effects()).toEqual(['m1', 'm2']);
    const otherConsumer = await inbox.runGroup('d', [{ messageId: 'm1', work: write('m1', 'd') }]);
    expect(otherConsumer.map((r) => r.kind)).toEqual(['handled']);
  });

  it.each(['on-failure', 'always'] as const)(
    'commits nothing when the transaction fails at its commit (savepoints %s)',
    async (savepoints) => {
      inbox = new TypeOrmInboxStore(source, { schema: db.schema, savepoints });
      const other = await db.connect(1);
      const group = inbox.runGroup('c', [
        { messageId: 'm1', work: write('m1') },
        {
          messageId: 'm2',
          work: async () => {
            await write('m2')();
            const [own] = (await inbox.manager().query('SELECT pg_backend_pid() AS pid')) as { pid: number }[];
            // The connection dies after the last handler, as a database restart would do it: the COMMIT fails.
            await other.query('SELECT pg_terminate_backend($1)', [own!.pid]);
          },
        },
      ]);
      await expect(group).rejects.toThrow();
      expect(await effects()).toEqual([]);
      expect(await inboxIds()).toEqual([]);
    },
  );

  /** m1 writes; m2's connection is terminated under it (as a database restart would), then m2 writes. */
  const connectionDiesUnderM2 = async (): Promise<InboxGroupEntry[]> => {
    const other = await db.connect(1);
    return [
      { messageId: 'm1', work: write('m1') },
      {
        messageId: 'm2',
        work: async () => {
          const [own] = (await inbox.manager().query('SELECT pg_backend_pid() AS pid')) as { pid: number }[];
          await other.query('SELECT pg_terminate_backend($1)', [own!.pid]);
          await write('m2')();
        },
      },
    ];
  };

  it('with savepoints always, fails the whole group when the connection dies under a handler', async () => {
    inbox = new TypeOrmInboxStore(source, { schema: db.schema, savepoints: 'always' });
    await expect(inbox.runGroup('c', await connectionDiesUnderM2())).rejects.toThrow();
    expect(await effects()).toEqual([]);
    expect(await inboxIds()).toEqual([]);
  });

  it('by default, when the connection dies under a handler, fails that delivery and commits the rest on a new connection', async () => {
    const group = await inbox.runGroup('c', await connectionDiesUnderM2());
    expect(group.map((r) => r.kind)).toEqual(['handled', 'failed']);
    expect(await effects()).toEqual(['m1']);
    expect(await inboxIds()).toEqual(['m1']);
  });

  it('refuses an unknown savepoints mode, naming the two there are', () => {
    expect(() => new TypeOrmInboxStore(source, { schema: db.schema, savepoints: 'never' as 'always' })).toThrow(
      "savepoints must be 'on-failure' or 'always', got never",
    );
  });

  it('batches: one call with the fresh messages; a failure commits nothing', async () => {
    await inbox.runBatch('c', ['m1'], async () => write('m1')());
    const seen: number[][] = [];
    const fresh = await inbox.runBatch('c', ['m1', 'm2', 'm3', 'm2'], async (indexes) => {
      seen.push([...indexes]);
      for (const index of indexes) await write(['m1', 'm2', 'm3', 'm2'][index]!)();
    });
    expect(fresh).toEqual([1, 2]);
    expect(seen).toEqual([[1, 2]]);
    await expect(
      inbox.runBatch('c', ['m4', 'm5'], async () => {
        await write('m4')();
        throw new Error('batch failed');
      }),
    ).rejects.toThrow('batch failed');
    expect(await effects()).toEqual(['m1', 'm2', 'm3']);
    expect(await inboxIds()).toEqual(['m1', 'm2', 'm3']);
    expect(inbox.stats()).toEqual({ handled: 3, duplicatesSkipped: 2 });
  });

  it('lets one of two groups claiming the same ids concurrently handle each, never both, without deadlock', async () => {
    const other = new TypeOrmInboxStore(await db.connect(), { schema: db.schema });
    const ids = Array.from({ length: 40 }, (_, i) => `m${String(i).padStart(2, '0')}`);
    const work = (store: TypeOrmInboxStore, id: string) => () =>
      store
        .manager()
        .query(`INSERT INTO "${db.schema}".effects (message_id) VALUES ($1)`, [id])
        .then(() => undefined);
    const [a, b] = await Promise.all([
      inbox.runGroup(
        'c',
        ids.map((id) => ({ messageId: id, work: work(inbox, id) })),
      ),
      other.runGroup(
        'c',
        [...ids].reverse().map((id) => ({ messageId: id, work: work(other, id) })),
      ),
    ]);
    const handled = [...a, ...b].filter((r) => r.kind === 'handled').length;
    expect(handled).toBe(40);
    expect(await effects()).toEqual(ids);
  });
});
