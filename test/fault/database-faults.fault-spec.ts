import { setTimeout as delay } from 'node:timers/promises';
import { RetryPolicy } from '@tidings/core';
import { RABBITMQ_URL } from '../rabbitmq/rabbitmq-conformance.target.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/postgres-node.js';
import { describeReport, expectClean } from './support/fault-report.js';
import { scaled } from './support/fault-scale.js';
import { OutboxPipeline } from './support/outbox-pipeline.js';

// This fault stops a database: the whole pipeline's PostgreSQL (outbox, inbox, effects, ledger) is a throwaway cluster
// of the suite's own on another port (DESIGN §9). RabbitMQ is the shared one, under a unique prefix.

describe('fault: the database fails under load (throwaway PostgreSQL)', () => {
  let postgres: ThrowawayPostgres;
  let pipeline: OutboxPipeline | undefined;

  beforeAll(async () => {
    postgres = await startThrowawayPostgres();
  }, 60_000);

  afterAll(async () => {
    await pipeline?.dispose();
    await postgres?.dispose();
  }, 60_000);

  it('PostgreSQL stopped with -m immediate, then started: failed transactions were never sent, the rest take effect once', async () => {
    const downMs = scaled(3000, 10_000);
    const events = scaled(3000, 10_000);
    // Handlers fail while the database is away: the retry schedule (up to ~17 s) outlasts the outage, so nothing is
    // dead-lettered for it.
    const retry = new RetryPolicy({
      maxAttempts: 8,
      initialDelayMs: 250,
      multiplier: 4,
      maxDelayMs: 4000,
      tiersMs: [250, 1000, 4000],
      jitter: 0,
    });
    pipeline = await OutboxPipeline.start({ label: 'pg-stop', rabbitmqUrl: RABBITMQ_URL, postgresUrl: postgres.url, retry });
    const producer = pipeline.produce(events, 10, 5);
    await producer.reached(events / 3);
    const atStop = producer.count;
    await postgres.stop('immediate');
    await delay(downMs);
    await postgres.start();
    const tally = await producer.finished();
    const report = await pipeline.ledger.settle(`PostgreSQL stopped (immediate) for ${downMs / 1000} s`, { timeoutMs: 120_000 });

    const relay = pipeline.relay?.stats();
    process.stdout.write(
      `${describeReport(report, `stopped after ${atStop} committed; ${tally.failedTransactions} producer transactions failed meanwhile; relay ${relay?.state}, ${pipeline.inbox.stats().duplicatesSkipped} duplicates skipped`)}\n`,
    );
    expectClean(report);
    // Every transaction the producer saw commit is in the ledger (one whose COMMIT was cut off may be there too).
    expect(report.sent).toBeGreaterThanOrEqual(tally.committed);
    expect(tally.failedTransactions).toBeGreaterThan(0);
    expect(relay?.consecutiveFailures).toBe(0);
  }, 240_000);
});
