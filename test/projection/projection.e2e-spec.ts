import 'reflect-metadata';
import {
  createEnvelope,
  encodeEnvelope,
  MemoryBroker,
  MemoryTransport,
  type Envelope,
  type OutboundMessage,
  type Transport,
} from '@tidings/core';
import { RabbitMqTransport } from '@tidings/rabbitmq';
import { connect } from 'amqplib';
import { toPublication } from '../../libs/rabbitmq/src/wire/amqp-message.mapping.js';
import { RABBITMQ_URL, silentLogger, uniquePrefix } from '../rabbitmq/rabbitmq-conformance.target.js';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/postgres-node.js';
import { RabbitMqManagement } from '../support/rabbitmq-management.js';
import { seededRandom } from '../support/seeded-random.js';
import { dropSchemas, POSTGRES_URL } from '../typeorm/outbox-database.js';
import { BANNED, startScores, type ScoresApp } from './scores.projection.js';

// Projections on both transports' event logs and the real PostgreSQL, counted: N published, every valid event applied
// exactly once (the handler adds, so a double or a loss shows), every invalid one skipped and recorded, none lost.

const TYPE = 'e2e.score.recorded';
const PLAYERS = Array.from({ length: 12 }, (_, i) => `player-${i}`);

const v1 = (player: string, score: number): Envelope => createEnvelope({ type: TYPE, version: 1, source: 'e2e', data: { player, score } });
const v2 = (playerId: string, points: number): Envelope =>
  createEnvelope({ type: TYPE, version: 2, source: 'e2e', data: { playerId, points } });

/** One point per event, players in turn: the totals `n` such events give. */
const onePointEach = (n: number): Envelope[] => Array.from({ length: n }, (_, i) => v2(PLAYERS[i % PLAYERS.length] as string, 1));
const totalsOf = (envelopes: readonly Envelope[]): Record<string, number> => {
  const totals: Record<string, number> = {};
  for (const { data } of envelopes) {
    const { playerId, points } = data as { playerId: string; points: number };
    totals[playerId] = (totals[playerId] ?? 0) + points;
  }
  return totals;
};

/** The two logs under test: a way to make transports sharing one log, to publish foreign bytes into it, and cleanup. */
interface LogUnderTest {
  readonly name: string;
  transport(): Transport;
  publishRaw(message: OutboundMessage): Promise<void>;
  dispose(): Promise<void>;
}

function memoryLog(): LogUnderTest {
  const broker = new MemoryBroker();
  return {
    name: 'memory',
    transport: () => new MemoryTransport({ broker }),
    publishRaw: async (message) => broker.publish([message]),
    dispose: async () => broker.dispose(),
  };
}

function rabbitMqLog(): LogUnderTest {
  const prefix = uniquePrefix('projection');
  const exchange = `${prefix}events`;
  const options = { url: RABBITMQ_URL, exchange, logger: silentLogger, eventLog: { queue: `${prefix}log` } };
  return {
    name: 'rabbitmq',
    transport: () => new RabbitMqTransport({ ...options, connectionName: `${prefix}app` }),
    publishRaw: async (message) => {
      const connection = await connect(RABBITMQ_URL);
      const channel = await connection.createConfirmChannel();
      const { routingKey, content, options: publishOptions } = toPublication(exchange, message);
      channel.publish(exchange, routingKey, content, publishOptions);
      await channel.waitForConfirms();
      await connection.close();
    },
    dispose: async () => void (await new RabbitMqManagement().deleteByPrefix(prefix)),
  };
}

describe.each([
  ['memory', memoryLog],
  ['rabbitmq', rabbitMqLog],
] as const)('Projection on the %s event log (real PostgreSQL)', (_, makeLog) => {
  let log: LogUnderTest;
  let producer: Transport;
  const apps: ScoresApp[] = [];
  const schemas: string[] = [];
  const random = seededRandom(Date.now() % 100_000);

  const newSchema = (): string => {
    const schema = `e2e_scores_${process.pid}_${Date.now().toString(36)}_${schemas.length}`;
    schemas.push(schema, `${schema}__rebuild`, `${schema}__retired`);
    return schema;
  };
  const start = async (schema: string): Promise<ScoresApp> => {
    const app = await startScores(log.transport(), POSTGRES_URL, schema);
    apps.push(app);
    return app;
  };
  const publish = async (envelopes: readonly Envelope[]): Promise<void> => {
    for (let i = 0; i < envelopes.length; i += 250) await producer.publish(envelopes.slice(i, i + 250));
  };

  beforeEach(async () => {
    log = makeLog();
    producer = log.transport();
    await producer.start();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await producer.stop();
    await log.dispose();
    await dropSchemas(schemas.splice(0));
  });

  it('applies old-shape (v1, upcast) and current (v2) events exactly once, live and in a rebuild', async () => {
    const expected: Record<string, number> = {};
    const envelopes = Array.from({ length: 1200 }, (_, i) => {
      const player = PLAYERS[i % PLAYERS.length] as string;
      const points = 1 + Math.floor(random() * 10);
      expected[player] = (expected[player] ?? 0) + points;
      return random() < 0.5 ? v1(player, points) : v2(player, points);
    });
    const app = await start(newSchema());
    await publish(envelopes);
    await app.projections.whenCaughtUp('scores');
    expect(await app.totals()).toEqual(expected);
    expect(await app.applied()).toBe(1200);

    const result = await app.projections.rebuild('scores');
    expect(result.resumedFrom).toBe(0);
    expect(await app.totals()).toEqual(expected);
    expect(await app.applied()).toBe(1200);
    expect(await app.projections.skipped('scores')).toEqual([]);
  }, 60_000);

  it('skips and records what can never apply, applies a twice-published event once, and loses nothing', async () => {
    const app = await start(newSchema());
    const good = onePointEach(400);
    const invalid = v2('player-0', Number.NaN); // NaN is JSON null: the schema refuses it
    const future = createEnvelope({ type: TYPE, version: 3, source: 'e2e', data: { playerId: 'player-0', points: 1, bonus: 2 } });
    const banned = v2(BANNED, 5);
    const malformed: OutboundMessage = {
      ...encodeEnvelope(v2('player-0', 1)),
      body: new TextEncoder().encode('{"playerId": "player-0", "points"'),
    };
    await publish([...good.slice(0, 100), invalid, ...good.slice(100, 200), future, banned]);
    await log.publishRaw(malformed);
    await publish([...good.slice(200), good[0] as Envelope, good[1] as Envelope]); // the last two: published again

    await app.projections.whenCaughtUp('scores');
    const sent = 400 + 4 + 2;
    const skipped = await app.projections.skipped('scores');
    expect(skipped.map((s) => s.code).sort()).toEqual([
      'TIDINGS_DECODE_FAILED',
      'TIDINGS_EVENT_INVALID',
      'TIDINGS_NON_RETRYABLE',
      'TIDINGS_UNKNOWN_EVENT_TYPE',
    ]);
    expect(skipped.find((s) => s.code === 'TIDINGS_NON_RETRYABLE')).toMatchObject({
      eventId: banned.id,
      reason: expect.stringContaining('may not score'),
    });
    const applied = await app.applied();
    expect(applied).toBe(400);
    // Every entry accounted for: applied, skipped, or a repeat of an applied id.
    expect(applied + skipped.length + 2).toBe(sent);
    expect(await app.totals()).toEqual(totalsOf(good));
  }, 60_000);

  it('two instances following the same copy apply each event once', async () => {
    const schema = newSchema();
    const [a, b] = [await start(schema), await start(schema)];
    const envelopes = onePointEach(2000);
    await Promise.all([publish(envelopes.slice(0, 1000)), publish(envelopes.slice(1000))]);
    await Promise.all([a.projections.whenCaughtUp('scores'), b.projections.whenCaughtUp('scores')]);
    expect(await a.applied()).toBe(2000);
    expect(await b.totals()).toEqual(totalsOf(envelopes));
  }, 60_000);
});

describe('Projection while its database goes away (throwaway PostgreSQL, memory log)', () => {
  let postgres: ThrowawayPostgres;

  beforeAll(async () => {
    postgres = await startThrowawayPostgres();
  }, 60_000);

  afterAll(async () => {
    await postgres?.dispose();
  }, 60_000);

  it('retries from its checkpoint until the database is back, then has applied every event once', async () => {
    const broker = new MemoryBroker();
    const producer = new MemoryTransport({ broker });
    await producer.start();
    const app = await startScores(new MemoryTransport({ broker }), postgres.url, 'scores_outage');
    try {
      await producer.publish(onePointEach(600));
      await app.projections.whenCaughtUp('scores');
      await postgres.stop('immediate');
      await producer.publish(onePointEach(600));
      await new Promise((resolve) => setTimeout(resolve, 1500)); // the runner fails and backs off meanwhile
      await postgres.start();
      await app.projections.whenCaughtUp('scores', 60_000);
      expect(await app.applied()).toBe(1200);
      expect(await app.totals()).toEqual(totalsOf([...onePointEach(600), ...onePointEach(600)]));
    } finally {
      await app.close();
      await producer.stop();
    }
  }, 120_000);
});
