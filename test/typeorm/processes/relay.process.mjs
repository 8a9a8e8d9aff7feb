// An outbox relay in a process of its own, for tests that SIGKILL it. Runs on the built packages (npm run build).
// Environment: POSTGRES_URL, SCHEMA, RABBITMQ_URL, EXCHANGE, and PAUSE_AFTER_CONFIRM_MS, a pause between the broker's
// confirm and the claim's completion that widens the window a kill must hit to publish a batch twice.
import { OutboxRelay } from '@tidings/core';
import { RabbitMqTransport } from '@tidings/rabbitmq';
import { TypeOrmOutboxStore } from '@tidings/typeorm';
import { DataSource } from 'typeorm';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`relay.process: ${name} is not set`);
  return value;
};
const silent = { log: () => undefined, warn: () => undefined, error: (m) => process.stderr.write(`${m}\n`) };
const pause = Number(process.env.PAUSE_AFTER_CONFIRM_MS ?? '0');

const dataSource = new DataSource({ type: 'postgres', url: env('POSTGRES_URL'), schema: env('SCHEMA'), poolSize: 4 });
await dataSource.initialize();
const transport = new RabbitMqTransport({
  url: env('RABBITMQ_URL'),
  exchange: env('EXCHANGE'),
  logger: silent,
  connectionName: 'relay.process',
});
await transport.start();
const paused = {
  publish: async (envelopes) => {
    await transport.publish(envelopes);
    await new Promise((resolve) => setTimeout(resolve, pause));
  },
};
const relay = new OutboxRelay(new TypeOrmOutboxStore(dataSource, { schema: env('SCHEMA') }), paused, {
  batchSize: Number(process.env.BATCH_SIZE ?? '10'),
  batchesInFlight: 2,
  pollIntervalMs: 100,
  logger: silent,
});
await relay.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void relay
    .stop()
    .then(() => transport.stop())
    .then(() => dataSource.destroy())
    .then(() => process.exit(0));
});
