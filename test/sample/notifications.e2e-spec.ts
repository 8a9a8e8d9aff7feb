import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { eventually, EventEnveloper, EventTypeRegistry, MemoryTransport, type DeliveryOutcome, type Envelope } from '@tidings/core';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { AnswerAdded, QuestionAsked } from '../../apps/qa-events/src/index.js';
import type { NotificationsConfig } from '../../apps/notifications/src/config/notifications.config.js';
import { NotificationsAppModule } from '../../apps/notifications/src/notifications-app.module.js';
import type { NotificationView } from '../../apps/notifications/src/notifying/notification.view.js';
import { SimulatedPushProvider } from '../../apps/notifications/src/push/simulated-push.provider.js';
import { dropSchemas, POSTGRES_URL } from '../typeorm/outbox-database.js';
import { seededRandom } from '../support/seeded-random.js';

// The notifications service on the real PostgreSQL, fed through the memory transport as the questions service would
// feed it: every claim is a count of notifications listed, pushes made, attempts and dead letters.

const ANSWERS = 'notifications.answers';

/** One delivery's end, as the memory broker reports it. */
interface Settled {
  readonly id: string;
  readonly queue: string;
  readonly attempt: number;
  readonly outcome: DeliveryOutcome;
}

/** One running notifications service: its own schema, memory broker and push provider. */
interface Service {
  readonly app: INestApplication;
  readonly transport: MemoryTransport;
  readonly push: SimulatedPushProvider;
  readonly settled: Settled[];
  readonly schema: string;
  readonly base: string;
  list(userId: string): Promise<NotificationView[]>;
  get(path: string): Promise<{ status: number; body: Record<string, unknown> }>;
  rowCount(): Promise<number>;
}

const services: Service[] = [];
let run = 0;

async function startService(
  push: SimulatedPushProvider,
  retry: Pick<NotificationsConfig, 'maxAttempts' | 'retryDelayMs'>,
): Promise<Service> {
  const schema = `notifications_${process.pid}_${Date.now().toString(36)}_${++run}`;
  const transport = new MemoryTransport();
  const config: NotificationsConfig = {
    port: 0,
    databaseUrl: POSTGRES_URL,
    schema,
    rabbitMqUrl: 'unused',
    exchange: 'unused',
    namespace: '',
    failureRate: 0,
    unregisteredUsers: [],
    ...retry,
  };
  const app = await NestFactory.create(NotificationsAppModule.forRoot(config, { transport, push }), { logger: false });
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const settled: Settled[] = [];
  transport.broker.observe((event) => {
    if (event.kind !== 'settled') return;
    settled.push({
      id: event.item.message.attributes['id'] ?? '',
      queue: event.queue,
      attempt: event.item.attempt,
      outcome: event.outcome,
    });
  });
  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const service: Service = {
    app,
    transport,
    push,
    settled,
    schema,
    base,
    get,
    list: async (userId) => {
      const reply = await get(`/notifications?userId=${encodeURIComponent(userId)}`);
      expect(reply.status).toBe(200);
      return reply.body['items'] as NotificationView[];
    },
    rowCount: async () => {
      const rows: { n: string }[] = await app.get(DataSource).query(`SELECT count(*) AS n FROM "${schema}".notifications`);
      return Number(rows[0]?.n);
    },
  };
  services.push(service);
  return service;
}

// Events as the questions service publishes them: source `questions`, partitioned by question id.
const enveloper = new EventEnveloper('questions', new EventTypeRegistry());
const now = (): string => new Date().toISOString();
const questionAsked = (askerId: string, title = `A question of ${askerId}`): Envelope<QuestionAsked> => {
  const questionId = globalThis.crypto.randomUUID();
  const [envelope] = enveloper.wrap(new QuestionAsked(questionId, title, 'body', 'physics', 7, askerId, now()), {
    partitionKey: questionId,
  });
  return envelope as Envelope<QuestionAsked>;
};
const answerAdded = (questionId: string, authorId: string): Envelope<AnswerAdded> => {
  const answerId = globalThis.crypto.randomUUID();
  const [envelope] = enveloper.wrap(new AnswerAdded(answerId, questionId, `An answer by ${authorId}`, authorId, now()), {
    partitionKey: questionId,
  });
  return envelope as Envelope<AnswerAdded>;
};

afterAll(async () => {
  for (const service of services) {
    await service.app.close();
    service.transport.broker.dispose();
  }
  await dropSchemas(services.map((service) => service.schema));
});

describe('notifications service', () => {
  let service: Service;

  beforeAll(async () => {
    // Retries after 50, 150 and 450 ms: room for a late question to arrive, and still quick tests.
    service = await startService(new SimulatedPushProvider({ unregisteredUsers: ['zoe'] }), { maxAttempts: 4, retryDelayMs: 50 });
  });

  it('notifies the asker of every answer by someone else, newest first, and nobody of answers to their own question', async () => {
    const ana = questionAsked('ana', 'Why is the sky blue?');
    const bea = questionAsked('bea');
    const cid = questionAsked('cid');
    await service.transport.publish([ana, bea, cid]);
    await service.transport.broker.whenIdle();

    const toAna = ['ben', 'cleo', 'dan', 'eve', 'fay'].map((who) => answerAdded(ana.data.questionId, who));
    const toBea = ['ben', 'ana'].map((who) => answerAdded(bea.data.questionId, who));
    const ownAnswers = [
      answerAdded(ana.data.questionId, 'ana'),
      answerAdded(ana.data.questionId, 'ana'),
      answerAdded(cid.data.questionId, 'cid'),
    ];
    for (const answer of [...toAna, ...ownAnswers, ...toBea]) await service.transport.publish([answer]);
    await service.transport.broker.whenIdle();

    const listedForAna = await service.list('ana');
    expect(listedForAna).toHaveLength(5);
    expect(new Set(listedForAna.map((n) => n.answerId))).toEqual(new Set(toAna.map((a) => a.data.answerId)));
    expect(listedForAna.every((n) => n.userId === 'ana' && n.questionId === ana.data.questionId)).toBe(true);
    const newestFirst = listedForAna.map((n) => n.deliveredAt);
    expect(newestFirst).toEqual([...newestFirst].sort().reverse());
    const fromBen = listedForAna.find((n) => n.answererId === 'ben');
    expect(fromBen).toMatchObject({ text: 'ben answered your question “Why is the sky blue?”' });
    expect(Number.isNaN(Date.parse(fromBen?.deliveredAt ?? ''))).toBe(false);

    expect((await service.list('bea')).map((n) => n.answererId).sort()).toEqual(['ana', 'ben']);
    expect(await service.list('cid')).toEqual([]);
    expect(await service.list('ben')).toEqual([]); // answerers are not told about their own answers

    const answerIds = new Set([...toAna, ...toBea, ...ownAnswers].map((a) => a.data.answerId));
    expect(service.push.delivered.filter((p) => answerIds.has(p.collapseKey))).toHaveLength(7);
    expect(service.transport.broker.deadLetters()).toHaveLength(0);
    const ownIds = new Set(ownAnswers.map((a) => a.id));
    expect(service.settled.filter((s) => ownIds.has(s.id)).map((s) => s.outcome.kind)).toEqual(['ack', 'ack', 'ack']);
  });

  it('holds an answer that arrives before its question, retrying until the question is known, then notifies once', async () => {
    const question = questionAsked('gil');
    const answer = answerAdded(question.data.questionId, 'hal');
    await service.transport.publish([answer]);
    const firstTry = await eventually(() => {
      const seen = service.settled.find((s) => s.id === answer.id);
      expect(seen).toBeDefined();
      return seen;
    });
    expect(firstTry?.outcome).toMatchObject({ kind: 'retry', failure: { errorName: 'QuestionNotKnownError' } });

    await service.transport.publish([question]);
    await service.transport.broker.whenIdle();

    expect((await service.list('gil')).map((n) => n.answerId)).toEqual([answer.data.answerId]);
    expect(service.push.delivered.filter((p) => p.collapseKey === answer.data.answerId)).toHaveLength(1);
    expect(service.settled.filter((s) => s.id === answer.id).at(-1)?.outcome.kind).toBe('ack');
    expect(service.transport.broker.deadLetters(ANSWERS)).toHaveLength(0);
  });

  it('notifies once for a message delivered three times, twice at once and once after it was handled', async () => {
    const question = questionAsked('ivy');
    await service.transport.publish([question]);
    await service.transport.broker.whenIdle();
    const answer = answerAdded(question.data.questionId, 'jon');

    await service.transport.publish([answer, answer]);
    await service.transport.broker.whenIdle();
    await service.transport.publish([answer]);
    await service.transport.broker.whenIdle();

    expect(service.settled.filter((s) => s.id === answer.id).map((s) => s.outcome.kind)).toEqual(['ack', 'ack', 'ack']);
    expect(await service.list('ivy')).toHaveLength(1);
    expect(service.push.delivered.filter((p) => p.collapseKey === answer.data.answerId)).toHaveLength(1);
  });

  it('dead-letters an answer to a user without a device after exactly 1 attempt, recording nothing', async () => {
    const question = questionAsked('zoe');
    await service.transport.publish([question]);
    await service.transport.broker.whenIdle();
    const rowsBefore = await service.rowCount();
    const attemptsBefore = service.push.attempts;

    const answer = answerAdded(question.data.questionId, 'kim');
    await service.transport.publish([answer]);
    await service.transport.broker.whenIdle();

    const letters = service.transport.broker.deadLetters(ANSWERS).filter((l) => l.message.attributes['id'] === answer.id);
    expect(letters).toHaveLength(1);
    expect(letters[0]?.reason).toMatchObject({
      code: 'NOTIFY_UNKNOWN_DEVICE',
      errorName: 'UnknownDeviceError',
      message: 'User zoe has no registered device',
      attempts: 1,
      routingKey: 'qa.answer.added',
    });
    expect(service.push.attempts - attemptsBefore).toBe(1);
    expect(service.settled.filter((s) => s.id === answer.id)).toHaveLength(1);
    expect(await service.list('zoe')).toEqual([]);
    expect(await service.rowCount()).toBe(rowsBefore);
  });

  it('answers 400 naming the parameter when userId is missing, empty or repeated, and an empty list for an unknown user', async () => {
    expect(await service.get('/notifications')).toMatchObject({ status: 400, body: { message: ['userId: is required'] } });
    expect(await service.get('/notifications?userId=%20')).toMatchObject({ status: 400, body: { message: ['userId: must not be empty'] } });
    expect(await service.get('/notifications?userId=a&userId=b')).toMatchObject({
      status: 400,
      body: { message: ['userId: must be one user id'] },
    });
    expect(await service.get(`/notifications?userId=${'x'.repeat(101)}`)).toMatchObject({
      status: 400,
      body: { message: ['userId: must be at most 100 characters'] },
    });
    expect(await service.get('/notifications?userId=nobody')).toEqual({ status: 200, body: { items: [] } });
  });
});

describe('notifications service with a flaky push provider', () => {
  it('delivers every notification exactly once in the end, retrying the sends that failed', async () => {
    // Half the sends fail; 20 attempts make giving up on a message a one-in-a-million event (0.5^20 per answer).
    const push = new SimulatedPushProvider({ failureRate: 0.5, random: seededRandom(42) });
    const flaky = await startService(push, { maxAttempts: 20, retryDelayMs: 1 });
    const questions = ['ana', 'bea', 'cid'].map((asker) => questionAsked(asker));
    await flaky.transport.publish(questions);
    await flaky.transport.broker.whenIdle();

    const answers = questions.flatMap((q) => Array.from({ length: 10 }, (_, i) => answerAdded(q.data.questionId, `answerer-${i}`)));
    await flaky.transport.publish(answers);
    await flaky.transport.broker.whenIdle(20_000);

    expect(await flaky.rowCount()).toBe(30);
    for (const asker of ['ana', 'bea', 'cid']) expect(await flaky.list(asker)).toHaveLength(10);
    expect(new Set(push.delivered.map((p) => p.collapseKey))).toEqual(new Set(answers.map((a) => a.data.answerId)));
    expect(push.delivered.length).toBeGreaterThanOrEqual(30);
    const retried = flaky.settled.filter((s) => s.outcome.kind === 'retry');
    expect(retried.length).toBeGreaterThan(0);
    expect(push.attempts).toBe(push.delivered.length + retried.length);
    expect(flaky.transport.broker.deadLetters()).toHaveLength(0);
  });
});

describe('notifications service with a push provider that is always down', () => {
  it('retries an answer up to the attempts allowed, then dead-letters it, recording nothing', async () => {
    const push = new SimulatedPushProvider({ failureRate: 1 });
    const down = await startService(push, { maxAttempts: 4, retryDelayMs: 5 });
    const question = questionAsked('ana');
    await down.transport.publish([question]);
    await down.transport.broker.whenIdle();

    const answer = answerAdded(question.data.questionId, 'ben');
    await down.transport.publish([answer]);
    await down.transport.broker.whenIdle();

    const letters = down.transport.broker.deadLetters(ANSWERS);
    expect(letters).toHaveLength(1);
    expect(letters[0]?.message.attributes['id']).toBe(answer.id);
    expect(letters[0]?.reason).toMatchObject({ code: 'NOTIFY_PUSH_UNAVAILABLE', errorName: 'PushUnavailableError', attempts: 4 });
    expect(down.settled.filter((s) => s.id === answer.id).map((s) => [s.attempt, s.outcome.kind])).toEqual([
      [1, 'retry'],
      [2, 'retry'],
      [3, 'retry'],
      [4, 'deadLetter'],
    ]);
    expect(push.attempts).toBe(4);
    expect(push.delivered).toEqual([]);
    expect(await down.rowCount()).toBe(0);
    expect(await down.list('ana')).toEqual([]);

    // What an operator sees: the service is healthy (the provider is not one of its own parts), the metrics count it.
    expect(await down.get('/health')).toMatchObject({ status: 200, body: { status: 'up', checks: { broker: { status: 'up' } } } });
    const metrics = await fetch(`${down.base}/metrics`).then((r) => r.text());
    const line = (outcome: string): string =>
      `tidings_deliveries_total{subscription="${ANSWERS}",type="qa.answer.added",outcome="${outcome}"}`;
    expect(metrics).toContain(`${line('retry')} 3`);
    expect(metrics).toContain(`${line('dead_letter')} 1`);
  });
});
