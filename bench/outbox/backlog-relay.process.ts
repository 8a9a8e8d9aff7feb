/**
 * The backlog scenario's relay, alone in a process so that its memory is measured without the bench's: drains the
 * outbox table of the job in argv[2] (JSON, see `BacklogRelayJob`) to the exchange, writes a memory sample on stdout
 * every `sampleMs` and a last line when every row is published, then exits.
 */
import { OutboxRelay } from '@tidings/core';
import { RabbitMqTransport } from '@tidings/rabbitmq';
import { TypeOrmOutboxStore } from '@tidings/typeorm';
import { connect } from 'amqplib';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { RABBITMQ_URL, silentLogger } from '../rabbitmq/broker.js';
import type { BacklogRelayJob, BacklogRelayReport } from './backlog-relay.child.js';
import { POSTGRES_URL } from './database.js';
import { ObservedStore } from './observed-store.js';
import { drainRaw } from './raw-relay.js';

/** A relay ready to start: `run` drains every row and says what the relay did; `completed` counts rows so far. */
interface Drain {
  completed(): number;
  run(): Promise<string>;
  close(): Promise<void>;
}

const report = (line: BacklogRelayReport): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

/** Tidings' `OutboxRelay` with its defaults on a DataSource of 10, as the relay scenario runs it. */
async function tidingsDrain(job: BacklogRelayJob): Promise<Drain> {
  const source = new DataSource({ type: 'postgres', url: POSTGRES_URL, poolSize: 10, applicationName: 'tidings bench backlog relay' });
  await source.initialize();
  const transport = new RabbitMqTransport({
    url: RABBITMQ_URL,
    exchange: job.exchange,
    connectionName: 'tidings bench backlog relay',
    logger: silentLogger,
  });
  await transport.start();
  const store = new ObservedStore(new TypeOrmOutboxStore(source, { schema: job.table.schema, table: job.table.table }));
  const relay = new OutboxRelay(store, transport, { logger: silentLogger });
  return {
    completed: () => store.completedRows,
    async run() {
      const completed = store.whenCompleted(job.rows);
      await relay.start();
      await completed;
      const stats = relay.stats();
      if (stats.failedAttempts > 0 || stats.unroutable > 0) throw new Error(`relay stats: ${JSON.stringify(stats)}`);
      return `${store.claims} claims (${store.emptyClaims} empty)`;
    },
    async close() {
      await relay.stop();
      await transport.stop();
      await source.destroy();
    },
  };
}

/** The hand-written relay of the same shape as Tidings' defaults: 4 loops of 500 rows, each on a connection of its own. */
async function rawDrain(job: BacklogRelayJob): Promise<Drain> {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 4, application_name: 'tidings bench backlog raw relay' });
  pool.on('error', () => undefined);
  const connection = await connect(RABBITMQ_URL, { clientProperties: { connection_name: 'tidings bench backlog raw relay' } });
  connection.on('error', () => undefined);
  const channel = await connection.createConfirmChannel();
  let moved = 0;
  return {
    completed: () => moved,
    async run() {
      await drainRaw(pool, job.table, 500, 4, { channel, exchange: job.exchange }, (rows) => (moved += rows));
      return `${moved} rows moved`;
    },
    async close() {
      await connection.close();
      await pool.end();
    },
  };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as BacklogRelayJob;
  const drain = job.relay === 'tidings' ? await tidingsDrain(job) : await rawDrain(job);
  const started = performance.now();
  const cpu = process.cpuUsage();
  const sample = (): void => {
    const memory = process.memoryUsage();
    report({
      kind: 'sample',
      atMs: performance.now() - started,
      completed: drain.completed(),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
    });
  };
  sample();
  const timer = setInterval(sample, job.sampleMs);
  try {
    const note = await drain.run();
    const elapsedMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    clearInterval(timer);
    sample();
    report({ kind: 'done', elapsedMs, cpuUs: used.user + used.system, completed: drain.completed(), note });
  } finally {
    clearInterval(timer);
    await drain.close();
  }
}

// Exits explicitly: the parent waits for the exit, and a handle a library leaves open must not hold it.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
