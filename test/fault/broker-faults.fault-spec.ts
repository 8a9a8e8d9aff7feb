import { setTimeout as delay } from 'node:timers/promises';
import { eventually, RetryPolicy } from '@tidings/core';
import { startThrowawayRabbitMq, type ThrowawayRabbitMq } from '../support/rabbitmq-node.js';
import { describeReport, expectClean } from './support/fault-report.js';
import { scaled } from './support/fault-scale.js';
import { OutboxPipeline, type OutboxPipelineOptions } from './support/outbox-pipeline.js';
import { ReconnectClock } from './support/reconnect-clock.js';

// These faults kill, force-close, alarm and stop a broker: they run a throwaway RabbitMQ node of their own, on other
// ports (DESIGN §9), never the shared one. PostgreSQL is the shared one, in a schema per test.
const TIMEOUT_MS = scaled(180_000, 420_000);
/** Publishes the relay could not get confirmed fail after this, so the relay backs off and publishes them again. */
const PUBLISH_TIMEOUT_MS = 5000;

describe('fault: the broker fails under load (throwaway RabbitMQ node)', () => {
  let node: ThrowawayRabbitMq;
  let pipeline: OutboxPipeline | undefined;

  beforeAll(async () => {
    node = await startThrowawayRabbitMq();
  }, 120_000);

  afterEach(async () => {
    await node.setMemoryAlarm(false).catch(() => undefined);
    await pipeline?.dispose();
    pipeline = undefined;
  }, 60_000);

  afterAll(() => node?.dispose(), 120_000);

  /** Consumers the broker lists on `queue` (list_queues lags for quorum queues; list_consumers does not). */
  const consumersOn = async (queue: string): Promise<number> =>
    (await node.ctl('list_consumers', 'queue_name', '--no-table-headers')).split('\n').filter((row) => row.trim() === queue).length;

  const start = (label: string, overrides: Partial<OutboxPipelineOptions> = {}): Promise<OutboxPipeline> =>
    OutboxPipeline.start({ label, rabbitmqUrl: node.url, transport: { publishTimeoutMs: PUBLISH_TIMEOUT_MS }, ...overrides });

  it(
    'kill -9 of the broker, then rabbitmq-server -detached: every event committed takes effect once',
    async () => {
      const events = scaled(3000, 20_000);
      pipeline = await start('broker-kill');
      const producer = pipeline.produce(events, 20, 5);
      await producer.reached(events / 3);
      const atKill = producer.count;
      await node.kill();
      await delay(scaled(1000, 5000));
      await node.restart();
      const tally = await producer.finished();
      const report = await pipeline.ledger.settle('broker kill -9 and restart', { timeoutMs: 120_000 });

      const skipped = pipeline.inbox.stats().duplicatesSkipped;
      process.stdout.write(
        `${describeReport(report, `killed after ${atKill} committed; ${skipped} broker-level duplicates skipped by the inbox; ${tally.failedTransactions} failed producer transactions`)}\n`,
      );
      expectClean(report);
      expect(report.sent).toBe(events);
      expect(pipeline.logger.lines.some((line) => line.includes('connection lost'))).toBe(true);
    },
    TIMEOUT_MS,
  );

  it(
    'close_all_connections five times under load: every event committed takes effect once, one consumer as before',
    async () => {
      const events = scaled(6000, 20_000);
      pipeline = await start('close-all');
      // Paced (at most ~650/s) so the producer is still committing at the fifth close: rabbitmqctl takes a second or two.
      const producer = pipeline.produce(events, 10, 15);
      const closedWhileProducing: boolean[] = [];
      for (let close = 1; close <= 5; close++) {
        await producer.reached((events * close) / 6);
        await node.closeAllConnections(`fault suite: close ${close} of 5`);
        closedWhileProducing.push(producer.count < events);
      }
      await producer.finished();
      const report = await pipeline.ledger.settle('close_all_connections x5', { timeoutMs: 120_000 });

      const lost = pipeline.logger.lines.filter((line) => line.includes('connection lost')).length;
      process.stdout.write(
        `${describeReport(report, `${lost} connection losses seen; ${pipeline.inbox.stats().duplicatesSkipped} broker-level duplicates skipped`)}\n`,
      );
      expectClean(report);
      expect(closedWhileProducing).toEqual([true, true, true, true, true]);
      // Relay and consumer each have a publisher and a consumer connection; each close drops the ones open then.
      expect(lost).toBeGreaterThanOrEqual(5);
      await eventually(async () => expect(await consumersOn(pipeline!.queue)).toBe(1), { timeoutMs: 10_000, intervalMs: 250 });
    },
    TIMEOUT_MS,
  );

  it(
    'a memory alarm under load, then lifted: producers keep committing, the relay waits, every event takes effect once',
    async () => {
      const alarmMs = scaled(10_000, 60_000);
      const events = scaled(3000, 15_000);
      pipeline = await start('memory-alarm');
      const producer = pipeline.produce(events, 10, 10);
      await producer.reached(events / 5);
      await node.setMemoryAlarm(true);
      const atAlarm = producer.count;
      await delay(alarmMs);
      const backlogInAlarm = await pipeline.store.backlog();
      const relayInAlarm = pipeline.relay?.stats();
      const committedInAlarm = producer.count - atAlarm;
      await node.setMemoryAlarm(false);
      await producer.finished();
      const report = await pipeline.ledger.settle(`memory alarm for ${alarmMs / 1000} s`, { timeoutMs: 120_000 });

      process.stdout.write(
        `${describeReport(report, `${committedInAlarm} committed during the alarm; outbox backlog ${backlogInAlarm.pending} at its end, relay ${relayInAlarm?.state}`)}\n`,
      );
      expectClean(report);
      expect(committedInAlarm).toBeGreaterThan(0);
      expect(backlogInAlarm.pending).toBeGreaterThan(0);
    },
    TIMEOUT_MS,
  );

  it(
    '50 consumers through stop_app/start_app: each comes back once (no doubled consumers), reconnects spread by jitter',
    async () => {
      const consumers = 50;
      const events = scaled(2000, 5000);
      // The transports' default reconnect schedule, as a fleet of services would run it: 30% jitter.
      const reconnect = { initialDelayMs: 500, maxDelayMs: 4000, jitter: 0.3 };
      pipeline = await start('fifty', { consumer: false, retry: new RetryPolicy({ tiersMs: [200], initialDelayMs: 200, jitter: 0 }) });
      const clocks: ReconnectClock[] = [];
      for (let i = 0; i < consumers; i++) {
        const clock = new ReconnectClock();
        clocks.push(clock);
        const transport = await pipeline.transport(`consumer ${i}`, { reconnect, logger: clock });
        await pipeline.ledger.effects.subscribe(transport, pipeline.queue, pipeline.inbox, { concurrency: 2, prefetch: 10 });
      }
      await eventually(async () => expect(await consumersOn(pipeline!.queue)).toBe(consumers), { timeoutMs: 30_000, intervalMs: 250 });
      const producer = pipeline.produce(events, 10, 5);
      await producer.reached(events / 3);
      await node.stopApp();
      await delay(scaled(2000, 5000));
      const restartedAt = Date.now();
      await node.startApp();
      await producer.finished();
      const report = await pipeline.ledger.settle('50 consumers through stop_app/start_app', { timeoutMs: 120_000 });
      await eventually(() => expect(clocks.every((c) => c.reconnectedAt('consumer') !== undefined)).toBe(true), { timeoutMs: 30_000 });

      const after = clocks.map((c) => (c.reconnectedAt('consumer') ?? 0) - restartedAt).sort((a, b) => a - b);
      const spreadMs = (after.at(-1) ?? 0) - (after[0] ?? 0);
      const busiest = busiestWindow(after, 50);
      process.stdout.write(
        `${describeReport(report, `consumers back ${after[0]}..${after.at(-1)} ms after start_app (spread ${spreadMs} ms, at most ${busiest} in any 50 ms)`)}\n`,
      );
      expectClean(report);
      // One consumer per transport, now and a while later: none was doubled by a reconnect racing another.
      expect(await consumersOn(pipeline.queue)).toBe(consumers);
      await delay(2000);
      expect(await consumersOn(pipeline.queue)).toBe(consumers);
      // Jitter spreads the fleet's reconnects instead of a thundering herd on the broker that just came back.
      expect(spreadMs).toBeGreaterThanOrEqual(200);
      expect(busiest).toBeLessThan(consumers / 2);
    },
    TIMEOUT_MS,
  );
});

/** The most values of sorted `times` that fall within any window of `widthMs`. */
function busiestWindow(times: readonly number[], widthMs: number): number {
  let most = 0;
  let from = 0;
  for (let to = 0; to < times.length; to++) {
    while ((times[to] ?? 0) - (times[from] ?? 0) > widthMs) from += 1;
    most = Math.max(most, to - from + 1);
  }
  return most;
}
