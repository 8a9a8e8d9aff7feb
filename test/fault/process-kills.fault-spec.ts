import { setTimeout as delay } from 'node:timers/promises';
import { deadLetterQueueName, retryQueueName } from '@tidings/rabbitmq';
import { RABBITMQ_URL } from '../rabbitmq/rabbitmq-conformance.target.js';
import { Children } from './support/children.js';
import { describeReport, expectClean } from './support/fault-report.js';
import { scaled } from './support/fault-scale.js';
import { OutboxPipeline } from './support/outbox-pipeline.js';

// Relays and consumers run as child processes on the built packages (npm run build) and die by SIGKILL of their own
// pid, as in production. The broker and the database are the shared ones: nothing here stops them.
const RELAY = 'test/typeorm/processes/relay.process.mjs';
const CONSUMER = 'test/typeorm/processes/consumer.process.mjs';

describe('fault: processes killed (SIGKILL) on the shared RabbitMQ and PostgreSQL', () => {
  let pipeline: OutboxPipeline | undefined;
  let children: Children | undefined;

  afterEach(async () => {
    await children?.killAll();
    const queue = pipeline?.queue;
    await pipeline?.dispose(queue ? [queue, deadLetterQueueName(queue), retryQueueName(queue, 50)] : []);
    pipeline = undefined;
  }, 60_000);

  it('relay SIGKILLed at random while draining: every event committed takes effect once', async () => {
    const events = scaled(1000, 5000);
    const kills = scaled(5, 10);
    pipeline = await OutboxPipeline.start({ label: 'relay-kill', rabbitmqUrl: RABBITMQ_URL, relay: false });
    children = new Children(pipeline.childEnv);
    await pipeline.produce(events, 100, 0).finished();

    const pendingAtKill: number[] = [];
    for (let kill = 0; kill < kills; kill++) {
      // A pause between the broker's confirm and marking the rows widens the window in which a kill publishes twice.
      const relay = children.start(RELAY, { PAUSE_AFTER_CONFIRM_MS: '40', BATCH_SIZE: '20' });
      await relay.waitForLine(/^ready$/);
      await delay(30 + Math.random() * 200);
      await relay.kill('SIGKILL');
      pendingAtKill.push((await pipeline.store.backlog()).pending);
    }
    const survivor = children.start(RELAY, { BATCH_SIZE: '50' });
    await survivor.waitForLine(/^ready$/);
    const report = await pipeline.ledger.settle('relay SIGKILL while draining', { timeoutMs: 90_000, crashes: children.crashes });

    const skipped = pipeline.inbox.stats().duplicatesSkipped;
    process.stdout.write(
      `${describeReport(report, `${kills} kills, outbox rows pending after each: ${pendingAtKill.join(', ')}; ${skipped} broker-level duplicates skipped by the inbox`)}\n`,
    );
    expectClean(report);
    expect(report.sent).toBe(events);
    // The kills landed while draining, not before it started or after it ended.
    expect(pendingAtKill.filter((pending) => pending > 0 && pending < events).length).toBeGreaterThanOrEqual(Math.ceil(kills / 2));
    expect(pipeline.ledger.effects.deliveries).toBe(events + skipped);
  }, 240_000);

  it('consumer SIGKILLed after its transaction committed, before the ack, again and again: each redelivery is skipped', async () => {
    const events = scaled(200, 1000);
    const stallEvery = scaled(40, 100);
    pipeline = await OutboxPipeline.start({ label: 'consumer-kill', rabbitmqUrl: RABBITMQ_URL, consumer: false });
    children = new Children({ ...pipeline.childEnv, QUEUE: pipeline.queue });
    // The consumer declares its queue: start one before any event is published, so none goes unrouted.
    const first = children.start(CONSUMER, { MODE: 'hold', STALL_EVERY: String(stallEvery) });
    await first.waitForLine(/^ready$/);
    await pipeline.produce(events, 50, 0).finished();

    const stalledOn: string[] = [];
    let consumer = first;
    for (let kill = 0; kill < events / stallEvery; kill++) {
      const line = await consumer.waitForLine(/^committed /, 60_000);
      stalledOn.push(line.slice('committed '.length));
      await consumer.kill('SIGKILL');
      consumer = children.start(CONSUMER, { MODE: 'hold', STALL_EVERY: String(stallEvery) });
      await consumer.waitForLine(/^ready$/);
    }
    const report = await pipeline.ledger.settle('consumer SIGKILL between commit and ack', {
      timeoutMs: 60_000,
      crashes: children.crashes,
    });

    process.stdout.write(`${describeReport(report, `${stalledOn.length} kills, each after a commit and before its ack`)}\n`);
    expectClean(report);
    expect(report.sent).toBe(events);
    expect(new Set(stalledOn).size).toBe(events / stallEvery);
  }, 240_000);
});
