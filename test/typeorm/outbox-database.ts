import { decodeMessage, TopicPattern, type DeliverFn, type Envelope, type Transport } from '@tidings/core';
import { createInboxMigration, createOutboxMigrations, type TypeOrmOutboxStore } from '@tidings/typeorm';
import { DataSource } from 'typeorm';

export const POSTGRES_URL = process.env['POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
let counter = 0;

/** A schema of one test on the real PostgreSQL, with the outbox and inbox migrations run in it; dropped by `dispose`. */
export interface TestDatabase {
  readonly schema: string;
  readonly url: string;
  /** A new DataSource on the schema (closed by `dispose`). */
  connect(poolSize?: number): Promise<DataSource>;
  dispose(): Promise<void>;
}

export async function testDatabase(prefix: string, url = POSTGRES_URL): Promise<TestDatabase> {
  const schema = `${prefix}_${process.pid}_${Date.now().toString(36)}_${++counter}`;
  const sources: DataSource[] = [];
  const connect = async (poolSize = 6): Promise<DataSource> => {
    const source = new DataSource({
      type: 'postgres',
      url,
      schema,
      migrations: [...createOutboxMigrations({ schema }), createInboxMigration({ schema })],
      poolSize,
    });
    await source.initialize();
    sources.push(source);
    return source;
  };
  const admin = await connect(2);
  await admin.query(`CREATE SCHEMA "${schema}"`);
  await admin.runMigrations();
  return {
    schema,
    url,
    connect,
    dispose: async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await Promise.all(sources.filter((s) => s.isInitialized).map((s) => s.destroy()));
    },
  };
}

/** Drops the schemas (and everything in them) that a test's services created; missing ones are skipped. */
export async function dropSchemas(schemas: Iterable<string>, url = POSTGRES_URL): Promise<void> {
  const admin = new DataSource({ type: 'postgres', url });
  await admin.initialize();
  try {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await admin.destroy();
  }
}

/** Subscribes a consumer that records every envelope it receives, in order, on `transport`. */
export async function recordDeliveries(
  transport: Transport,
  name: string,
  patterns: readonly string[] = ['#'],
  options: { prefetch?: number; concurrency?: number } = {},
): Promise<Envelope[]> {
  const received: Envelope[] = [];
  const deliver: DeliverFn = async (message) => {
    received.push(decodeMessage(message));
    return { kind: 'ack' };
  };
  await transport.subscribe(
    {
      name,
      patterns: patterns.map((p) => TopicPattern.parse(p)),
      prefetch: options.prefetch ?? 50,
      concurrency: options.concurrency ?? 1,
      retryTiersMs: [1000],
    },
    deliver,
  );
  return received;
}

/** Writes `envelopes` to the outbox in transactions of `perTransaction` rows, as producers would commit them. */
export async function addInTransactions(
  source: DataSource,
  store: TypeOrmOutboxStore,
  envelopes: readonly Envelope[],
  perTransaction = 100,
): Promise<void> {
  for (let i = 0; i < envelopes.length; i += perTransaction) {
    await source.transaction((manager) => store.add(manager, envelopes.slice(i, i + perTransaction)));
  }
}
