import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Envelope } from '@tidings/core';
import { Projections, type ProjectionReport } from '@tidings/nestjs';
import { RabbitMqTransport } from '@tidings/rabbitmq';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { FeedAppModule } from '../../apps/feed/src/feed-app.module.js';
import type { FeedConfig } from '../../apps/feed/src/config/feed.config.js';
import { eventLogQueue } from '../../apps/sample-kit/src/index.js';
import { RABBITMQ_URL, uniquePrefix } from '../rabbitmq/rabbitmq-conformance.target.js';
import { startNodeProcess } from '../support/node-process.js';
import { RabbitMqManagement } from '../support/rabbitmq-management.js';
import { seededRandom } from '../support/seeded-random.js';
import { dropSchemas, POSTGRES_URL } from '../typeorm/outbox-database.js';
import type { FeedPageBody } from './feed-pages.js';
import { readWholeFeed } from './feed-pages.js';
import { QaStory } from './qa-story.js';

// The feed as a projection of the RabbitMQ event log (a stream), on the real PostgreSQL: built live from 10,000
// events, rebuilt from the whole log while questions and answers keep arriving and readers keep reading, and a
// rebuild run by the CLI that is SIGKILLed midway and started again. Every result is compared row for row with a
// feed built live from the same log in another schema.

const INITIAL_EVENTS = 10_000;

interface RunningFeed {
  readonly app: INestApplication;
  readonly base: string;
  readonly schema: string;
  readonly projections: Projections;
}

describe('Feed projection: live from the event log, rebuilt without downtime (real RabbitMQ and PostgreSQL)', () => {
  const namespace = uniquePrefix('feed-rebuild');
  const exchange = `${namespace}events`;
  const run = `${process.pid}_${Date.now().toString(36)}`;
  const schemas = { rebuilt: `e2e_${run}_feed`, reference: `e2e_${run}_feed_ref` };
  const seed = Date.now() % 100_000;
  const story = new QaStory(seededRandom(seed), `r${run}`);
  const feeds: RunningFeed[] = [];
  let producer: RabbitMqTransport;
  let admin: DataSource;
  let feed: RunningFeed;

  const config = (schema: string): FeedConfig => ({
    port: 0,
    databaseUrl: POSTGRES_URL,
    schema,
    rabbitMqUrl: RABBITMQ_URL,
    exchange,
    namespace,
  });

  const startFeed = async (schema: string): Promise<RunningFeed> => {
    const app = await NestFactory.create(FeedAppModule.forRoot(config(schema)), { logger: false });
    await app.listen(0, '127.0.0.1');
    const running = {
      app,
      base: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`,
      schema,
      projections: app.get(Projections),
    };
    feeds.push(running);
    return running;
  };

  const publish = async (envelopes: readonly Envelope[]): Promise<void> => {
    for (let i = 0; i < envelopes.length; i += 500) await producer.publish(envelopes.slice(i, i + 500));
  };

  const rows = async (schema: string): Promise<{ items: unknown[]; answers: unknown[] }> => ({
    items: await admin.query(`SELECT * FROM "${schema}".feed_items ORDER BY question_id`),
    answers: await admin.query(`SELECT * FROM "${schema}".feed_answers ORDER BY question_id, answer_id`),
  });

  /** The two copies hold the same rows, once both have applied everything published. */
  const expectEqualToReference = async (reference: RunningFeed): Promise<void> => {
    await Promise.all([feed.projections.whenCaughtUp('feed', 60_000), reference.projections.whenCaughtUp('feed', 60_000)]);
    const [rebuilt, live] = await Promise.all([rows(feed.schema), rows(reference.schema)]);
    expect(rebuilt.items.length).toBe(story.questionCount);
    expect(rebuilt).toEqual(live);
    expect(await readWholeFeed(feed.base)).toEqual(story.feed());
  };

  /** Publishes a question's worth of traffic every few milliseconds until stopped. */
  const traffic = (): { stop: () => Promise<number> } => {
    let running = true;
    let sent = 0;
    const loop = (async () => {
      while (running) {
        const batch = story.next(4);
        await publish(batch);
        sent += batch.length;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return sent;
      },
    };
  };

  /** Reads the feed in a loop; fails on the first error, empty page, or a whole feed with fewer items than before. */
  const readers = (atLeast: number): { stop: () => Promise<{ pages: number; wholeReads: number }> } => {
    let running = true;
    let pages = 0;
    let wholeReads = 0;
    let seen = atLeast;
    // A failing reader stops the other, so that stop() rejects with the first failure and nothing keeps running.
    const loop = (read: () => Promise<void>) => async (): Promise<void> => {
      try {
        while (running) await read();
      } finally {
        running = false;
      }
    };
    const firstPages = loop(async () => {
      const response = await fetch(`${feed.base}/feed?limit=20`);
      expect(response.status).toBe(200);
      expect(((await response.json()) as FeedPageBody).items).toHaveLength(20);
      pages += 1;
    })();
    const whole = loop(async () => {
      const count = (await readWholeFeed(feed.base)).length;
      expect(count).toBeGreaterThanOrEqual(seen);
      seen = count;
      wholeReads += 1;
    })();
    return {
      stop: async () => {
        running = false;
        await Promise.all([firstPages, whole]);
        return { pages, wholeReads };
      },
    };
  };

  const copyIdOf = async (schema: string): Promise<string> =>
    ((await admin.query(`SELECT copy_id FROM "${schema}".tidings_checkpoint`)) as Array<{ copy_id: string }>)[0]!.copy_id;

  beforeAll(async () => {
    admin = new DataSource({ type: 'postgres', url: POSTGRES_URL });
    await admin.initialize();
    producer = new RabbitMqTransport({
      url: RABBITMQ_URL,
      exchange,
      connectionName: `${namespace}producer`,
      eventLog: { queue: eventLogQueue({ namespace }) },
    });
    await producer.start();
  });

  afterAll(async () => {
    await Promise.all(feeds.map((f) => f.app.close()));
    await producer?.stop();
    await new RabbitMqManagement().deleteByPrefix(namespace);
    await admin?.destroy();
    await dropSchemas(Object.values(schemas).flatMap((s) => [s, `${s}__rebuild`, `${s}__retired`]));
  });

  it(`builds the feed live from ${INITIAL_EVENTS.toLocaleString('en-US')} events in the log`, async () => {
    await publish(story.next(INITIAL_EVENTS));
    feed = await startFeed(schemas.rebuilt);
    await feed.projections.whenCaughtUp('feed', 60_000);
    const message = `seed ${seed}`;
    expect({ message, feed: await readWholeFeed(feed.base) }).toEqual({ message, feed: story.feed() });
    expect(await feed.projections.skipped('feed')).toEqual([]);
  }, 120_000);

  it('rebuilds from the whole log while events keep arriving; reads never fail, never come back empty or short; the result equals a live-built feed', async () => {
    const before = await copyIdOf(schemas.rebuilt);
    const listed = story.questionCount; // all applied (the previous test waited): no read may show fewer
    const load = traffic();
    const reading = readers(listed);
    const response = await fetch(`${feed.base}/admin/projections/feed/rebuild`, { method: 'POST' });
    expect(response.status).toBe(202);
    let report: ProjectionReport;
    do {
      await new Promise((resolve) => setTimeout(resolve, 50));
      report = (await (await fetch(`${feed.base}/admin/projections/feed`)).json()) as ProjectionReport;
      expect(report.lastError).toBeUndefined();
    } while (report.progress?.phase !== 'done');
    const sentDuring = await load.stop();
    const { pages, wholeReads } = await reading.stop();
    console.log(
      `rebuild under traffic: ${report.progress.position} log entries at ${Math.round(report.progress.eventsPerSecond)} events/s; ` +
        `${sentDuring} events published meanwhile; ${pages} first pages and ${wholeReads} whole-feed reads, none failed, empty or short`,
    );
    expect(sentDuring).toBeGreaterThan(0);
    expect(pages).toBeGreaterThan(0);
    expect(wholeReads).toBeGreaterThan(0);
    // The rebuilt copy is live: another copy id, and neither the rebuild nor the retired copy is left.
    expect(await copyIdOf(schemas.rebuilt)).not.toBe(before);
    const left: Array<{ nspname: string }> = await admin.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [
      `${schemas.rebuilt}\\_\\_%`,
    ]);
    expect(left).toEqual([]);

    const reference = await startFeed(schemas.reference);
    await expectEqualToReference(reference);
  }, 180_000);

  it('a rebuild by the CLI SIGKILLed midway resumes from its checkpoint when started again, and ends equal', async () => {
    const reference = feeds.find((f) => f.schema === schemas.reference)!;
    const liveCopy = await copyIdOf(schemas.rebuilt);
    const env = {
      NO_COLOR: '1',
      DATABASE_URL: POSTGRES_URL,
      RABBITMQ_URL,
      RABBITMQ_EXCHANGE: exchange,
      TIDINGS_NAMESPACE: namespace,
      FEED_SCHEMA: schemas.rebuilt,
    };
    const args = ['projection', 'rebuild', 'feed', '--batch-size', '100', '--progress-ms', '50'];
    const load = traffic();
    const first = startNodeProcess('apps/dist/feed/src/tidings.cli.js', env, args);
    let killedAt: number;
    for (;;) {
      const found: Array<{ position: string }> = await admin
        .query(`SELECT position FROM "${schemas.rebuilt}__rebuild".tidings_checkpoint`)
        .catch(() => []);
      killedAt = Number(found[0]?.position ?? 0);
      if (killedAt >= 1000) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await first.kill('SIGKILL');
    const stoppedAt = Number(
      ((await admin.query(`SELECT position FROM "${schemas.rebuilt}__rebuild".tidings_checkpoint`)) as Array<{ position: string }>)[0]!
        .position,
    );
    expect(stoppedAt).toBeGreaterThanOrEqual(killedAt);
    expect(await copyIdOf(schemas.rebuilt)).toBe(liveCopy); // killed before its swap

    const second = startNodeProcess('apps/dist/feed/src/tidings.cli.js', env, args);
    const summary = await second.waitForLine(/^Rebuilt projection feed/, 120_000);
    expect(await second.exited).toBe(0);
    const resumedFrom = Number(/resumed at position (\d+)/.exec(summary)?.[1]);
    expect(resumedFrom).toBe(stoppedAt);
    expect(await copyIdOf(schemas.rebuilt)).not.toBe(liveCopy);
    await load.stop();
    await expectEqualToReference(reference);
  }, 180_000);
});
