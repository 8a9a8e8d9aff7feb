// A transactional consumer in a process of its own, for tests that SIGKILL it after its transaction commits
// and before the broker hears the ack. Runs on the built packages (npm run build).
// Environment: POSTGRES_URL, SCHEMA, RABBITMQ_URL, EXCHANGE, QUEUE. After each delivery's pipeline has settled
// (inbox row and effect committed) it prints `committed <id>` and never returns, so the message is never acked.
import { ErrorClassifier, HandlerPipeline, RetryPolicy, TopicPattern } from '@tidings/core';
import { RabbitMqTransport } from '@tidings/rabbitmq';
import { TypeOrmInboxStore } from '@tidings/typeorm';
import { DataSource } from 'typeorm';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`consumer.process: ${name} is not set`);
  return value;
};
const schema = env('SCHEMA');
const silent = { log: () => undefined, warn: () => undefined, error: (m) => process.stderr.write(`${m}\n`) };

const dataSource = new DataSource({ type: 'postgres', url: env('POSTGRES_URL'), schema, poolSize: 2 });
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
          .query(`INSERT INTO "${schema}".effects (consumer, message_id, partition_key, seq) VALUES ($1, $2, NULL, $3)`, [
            queue,
            context.envelope.id,
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
  connectionName: 'consumer.process',
});
await transport.start();
await transport.subscribe({ name: queue, patterns: [pattern], prefetch: 1, concurrency: 1, retryTiersMs: [50] }, async (message) => {
  await pipeline.deliver(message);
  process.stdout.write(`committed ${message.attributes.id}\n`);
  return new Promise(() => undefined);
});
process.stdout.write('ready\n');
