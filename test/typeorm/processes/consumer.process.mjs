// A transactional consumer in a process of its own, for tests that SIGKILL it. Runs on the built packages (npm run build).
// Environment: POSTGRES_URL, SCHEMA, RABBITMQ_URL, EXCHANGE, QUEUE, and MODE:
// - `hold` (default): one delivery at a time; after the pipeline has committed the STALL_EVERY-th new delivery (default
//   1: the first) it prints `committed <id>` and never returns, so that message is never acked: a kill lands between
//   commit and ack. The deliveries before it, and redeliveries the inbox skips, are acked as usual.
// - `drain`: group commit (the pipeline's default) with up to 150 deliveries in progress, acked normally: kills land at
//   random points, before a group's commit, between the commit and the acks, while acks are in flight.
// Prints `ready` once consuming; each handled delivery writes one effect row (no uniqueness, so a double shows).
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

const drain = process.env.MODE === 'drain';
const dataSource = new DataSource({ type: 'postgres', url: env('POSTGRES_URL'), schema, poolSize: drain ? 4 : 2 });
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
  connectionName: 'consumer.process',
});
await transport.start();
const stallEvery = Number(process.env.STALL_EVERY ?? '1');
let newlyHandled = 0;
const flow = drain ? { prefetch: 150, concurrency: 150 } : { prefetch: 1, concurrency: 1 };
await transport.subscribe({ name: queue, patterns: [pattern], ...flow, retryTiersMs: [50] }, async (message) => {
  if (drain) return pipeline.deliver(message);
  const skippedBefore = inbox.stats().duplicatesSkipped;
  const outcome = await pipeline.deliver(message);
  const duplicate = inbox.stats().duplicatesSkipped > skippedBefore;
  if (duplicate || outcome.kind !== 'ack' || ++newlyHandled % stallEvery !== 0) return outcome;
  process.stdout.write(`committed ${message.attributes.id}\n`);
  return new Promise(() => undefined);
});
process.stdout.write('ready\n');
