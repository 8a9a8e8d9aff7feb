import type { Envelope } from '@tidings/core';
import { createInboxMigration, createOutboxMigrations, outboxTable, TypeOrmOutboxStore, type MigrationClass } from '@tidings/typeorm';
import pg from 'pg';
import { DataSource } from 'typeorm';

export const POSTGRES_URL = process.env['POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** One outbox table of a run: created by Tidings' own migration, so raw and Tidings variants share its shape and indexes. */
export interface BenchOutboxTable {
  /** Schema and table, as the store's options take them. */
  readonly schema: string;
  readonly table: string;
  /** `"schema"."table"`, for hand-written SQL. */
  readonly qualified: string;
  /** The NOTIFY channel the store signals on. */
  readonly channel: string;
}

const open = new Set<BenchDatabase>();

/**
 * The bench's hold on the shared PostgreSQL: one schema of its own (unique name), with fresh tables per run so
 * that no run inherits another's dead rows or index bloat (autovacuum may be off). `dispose` drops the schema
 * and closes every pool; `disposeAll` does so for every database still open (Ctrl-C).
 */
export class BenchDatabase {
  private readonly sources: DataSource[] = [];
  private readonly pools: pg.Pool[] = [];
  /** Schemas made by others (a projection store's copies) that `dispose` drops too. */
  private readonly adopted = new Set<string>();
  private counter = 0;
  private disposed = false;

  private constructor(
    readonly schema: string,
    private readonly admin: DataSource,
  ) {}

  static async open(label: string): Promise<BenchDatabase> {
    const schema = `bench_${label}_${process.pid}_${Date.now().toString(36)}`;
    const admin = await BenchDatabase.source(2, 'tidings bench admin');
    await admin.query(`CREATE SCHEMA "${schema}"`);
    const database = new BenchDatabase(schema, admin);
    open.add(database);
    return database;
  }

  static async disposeAll(): Promise<void> {
    await Promise.all([...open].map((d) => d.dispose()));
  }

  private static async source(poolSize: number, applicationName: string): Promise<DataSource> {
    const source = new DataSource({ type: 'postgres', url: POSTGRES_URL, poolSize, applicationName });
    await source.initialize();
    return source;
  }

  /** A TypeORM DataSource (a pg pool of `poolSize` underneath), as applications configure one; closed by `dispose`. */
  async dataSource(poolSize: number, name: string): Promise<DataSource> {
    const source = await BenchDatabase.source(poolSize, `tidings bench ${name}`);
    this.sources.push(source);
    await warm(poolSize, () => source.query('SELECT 1'));
    return source;
  }

  /** A plain pg pool for hand-written SQL; closed by `dispose`. */
  async pool(max: number, name: string): Promise<pg.Pool> {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max, application_name: `tidings bench ${name}` });
    pool.on('error', () => undefined);
    this.pools.push(pool);
    await warm(max, () => pool.query('SELECT 1'));
    return pool;
  }

  /** A fresh outbox table, made by `createOutboxMigrations`. */
  async createOutbox(label: string): Promise<BenchOutboxTable> {
    const table = `${label}_${++this.counter}`;
    await this.migrate(...createOutboxMigrations({ schema: this.schema, table }));
    const names = outboxTable({ schema: this.schema, table });
    return { schema: this.schema, table, qualified: names.qualified, channel: names.channel };
  }

  /** A fresh inbox table, made by `createInboxMigration`; returns its table name (in {@link schema}). */
  async createInbox(label: string): Promise<string> {
    const table = `${label}_${++this.counter}`;
    await this.migrate(createInboxMigration({ schema: this.schema, table }));
    return table;
  }

  private async migrate(...migrations: MigrationClass[]): Promise<void> {
    const runner = this.admin.createQueryRunner();
    try {
      for (const Migration of migrations) await new Migration().up(runner);
    } finally {
      await runner.release();
    }
  }

  /** A fresh table for a consumer's effects: one row per handled message, no uniqueness (a doubled effect shows). */
  async createEffects(): Promise<string> {
    const qualified = `"${this.schema}"."effects_${++this.counter}"`;
    await this.admin.query(`CREATE TABLE ${qualified} (message_id text NOT NULL, order_id text NOT NULL, customer_id text NOT NULL)`);
    return qualified;
  }

  /** A fresh business table: what the application writes in the same transaction as its outbox rows. */
  async createOrders(): Promise<string> {
    const qualified = `"${this.schema}"."orders_${++this.counter}"`;
    await this.admin.query(
      `CREATE TABLE ${qualified} (
         id bigserial PRIMARY KEY,
         order_id text NOT NULL,
         customer_id text NOT NULL,
         total_cents integer NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    return qualified;
  }

  /**
   * Writes `envelopes` into `table` with Tidings' own insert (`TypeOrmOutboxStore.add`, 1,000 per transaction), then
   * `ANALYZE`s it (autovacuum may be off: without statistics the claim's plan would be a guess).
   */
  async fill(source: DataSource, table: BenchOutboxTable, envelopes: readonly Envelope[]): Promise<void> {
    const store = new TypeOrmOutboxStore(source, { schema: table.schema, table: table.table });
    for (let i = 0; i < envelopes.length; i += 1000) {
      const chunk = envelopes.slice(i, i + 1000);
      await source.transaction((manager) => store.add(manager, chunk));
    }
    await this.admin.query(`ANALYZE ${table.qualified}`);
  }

  async count(qualified: string): Promise<number> {
    const [row] = (await this.admin.query(`SELECT count(*)::int AS n FROM ${qualified}`)) as { n: number }[];
    return row?.n ?? 0;
  }

  /**
   * Flushes everything written so far (fills, earlier runs) to the data files, so that a measured run neither pays for
   * an earlier run's checkpoint nor meets a timed one (`checkpoint_timeout` restarts now).
   */
  async checkpoint(): Promise<void> {
    await this.admin.query('CHECKPOINT');
  }

  async dropTable(qualified: string): Promise<void> {
    await this.admin.query(`DROP TABLE IF EXISTS ${qualified}`);
  }

  /** Schemas someone else creates (a projection store's copies): dropped by {@link dropAdopted} or `dispose`. */
  adopt(...schemas: string[]): void {
    for (const schema of schemas) this.adopted.add(schema);
  }

  /** Drops the adopted schemas (and everything in them). */
  async dropAdopted(...schemas: string[]): Promise<void> {
    for (const schema of schemas) {
      await this.admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      this.adopted.delete(schema);
    }
  }

  async query<T>(sql: string, parameters?: unknown[]): Promise<T[]> {
    return (await this.admin.query(sql, parameters)) as T[];
  }

  /** Drops the schema and the adopted ones (and every table in them) and closes every pool. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    open.delete(this);
    await Promise.all(this.pools.map((p) => p.end().catch(() => undefined)));
    await Promise.all(this.sources.filter((s) => s.isInitialized).map((s) => s.destroy().catch(() => undefined)));
    await this.admin.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`).catch(() => undefined);
    for (const schema of this.adopted) await this.admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await this.admin.destroy().catch(() => undefined);
  }
}

/** PostgreSQL's version, e.g. `15.20`, or `unreachable`. */
export async function postgresVersion(): Promise<string> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0]?.server_version.split(' ')[0] ?? 'unknown';
  } catch {
    return 'unreachable';
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Opens all `size` connections of a pool before any clock starts (pools connect lazily). */
async function warm(size: number, query: () => Promise<unknown>): Promise<void> {
  await Promise.all(Array.from({ length: size }, query));
}
