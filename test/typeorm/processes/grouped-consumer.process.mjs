// A transactional consumer with group commit (the pipeline's default) in a process of its own, for tests that SIGKILL
// it at random points: before a group's commit, between the commit and the acks, while acks are in flight. Runs on
// the built packages (npm run build). Environment: POSTGRES_URL, SCHEMA, RABBITMQ_URL, EXCHANGE, QUEUE.
// Prints `ready` once consuming; each handled delivery writes one effect row (no uniqueness, so a double shows).
import { ErrorClassifier, HandlerPipeline, RetryPolicy, TopicPattern } from '@tidings/core';
import { RabbitMqTransport } from '@tidings/rabbitmq';
import { TypeOrmInboxStore } from '@tidings/typeorm';
import { DataSource } from 'typeorm';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`grouped-consumer.process: ${name} is not set`);
  return value;
};
const schema = env('SCHEMA');
const silent = { log: () => undefined, warn: () => undefined, error: (m) => process.stderr.write(`${m}\n`) };

const dataSource = new DataSource({ type: 'postgres', url: env('POSTGRES_URL'), schema, poolSize: 4 });
await dataSource.initialize();
const inbox = new TypeOrmInboxStore(dataSource, { schema });
const queue = env('QUEUE');
const pattern = TopicPattern.parse('#');
const pipeline = new HandlerPipeline({
  subscription: queue,
  inbox,
  handlers: [
    {
      name: queue,
      target: { patterns: [pattern] },
      handle: async (data, context) => {
        await inbox
          .manager()
          .query(`INSERT INTO "${schema}".effects (consumer, message_id, partition_key, seq) VALUES ($1, $2, $3, $4)`, [
            queue,
            context.envelope.id,
            context.envelope.partitionkey ?? null,
            data.seq ?? null,
          ]);
      },
      retry: new RetryPolicy({ tiersMs: [50], initialDelayMs: 50, jitter: 0 }),
      classifier: new ErrorClassifier(),
    },
  ],
});
const transport = new RabbitMqTransport({
  url: env('RABBITMQ_URL'),
  exchange: env('EXCHANGE'),
  logger: silent,
  connectionName: 'grouped-consumer.process',
});
await transport.start();
await transport.subscribe({ name: queue, patterns: [pattern], prefetch: 150, concurrency: 150, retryTiersMs: [50] }, pipeline.deliver);
process.stdout.write('ready\n');
