import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { eventually, EventEnveloper, EventTypeRegistry, type Envelope } from '@tidings/core';
import { deadLetterReasonOf, RabbitMqTransport } from '@tidings/rabbitmq';
import { connect, type ChannelModel } from 'amqplib';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { AnswerAdded, QuestionAsked } from '../../apps/qa-events/src/index.js';
import type { NotificationsConfig } from '../../apps/notifications/src/config/notifications.config.js';
import { NotificationsAppModule } from '../../apps/notifications/src/notifications-app.module.js';
import type { NotificationView } from '../../apps/notifications/src/notifying/notification.view.js';
import { SimulatedPushProvider } from '../../apps/notifications/src/push/simulated-push.provider.js';
import { RABBITMQ_URL, removeTopology, silentLogger } from '../rabbitmq/rabbitmq-conformance.target.js';
import { dropSchemas, POSTGRES_URL } from '../typeorm/outbox-database.js';

// The notifications service on the real RabbitMQ and PostgreSQL: a permanent failure lands in the answers queue's DLQ
// after one attempt, a transient one goes through the retry tier queues and is delivered. A namespace and an exchange
// of its own keep its queues apart from every other suite's; all of them are deleted at the end.

const namespace = `t${process.pid}-${Date.now().toString(36)}-`;
const exchange = `${namespace}events`;
const answersQueue = `${namespace}notifications.answers`;
const schema = `notifications_rmq_${process.pid}_${Date.now().toString(36)}`;

/** Random draws for the provider: the first two sends to a known device fail, every later one succeeds. */
function failTwiceThenSucceed(): () => number {
  let draws = 0;
  return () => (draws++ < 2 ? 0 : 0.99);
}

const enveloper = new EventEnveloper('questions', new EventTypeRegistry());
const now = (): string => new Date().toISOString();
const one = <T>(envelopes: Envelope[]): Envelope<T> => envelopes[0] as Envelope<T>;

describe('notifications service on the real RabbitMQ', () => {
  let app: INestApplication;
  let transport: RabbitMqTransport;
  let raw: ChannelModel;
  let base: string;
  const push = new SimulatedPushProvider({ failureRate: 0.5, unregisteredUsers: ['zoe'], random: failTwiceThenSucceed() });

  beforeAll(async () => {
    transport = new RabbitMqTransport({ url: RABBITMQ_URL, exchange, connectionName: `${namespace}notifications`, logger: silentLogger });
    const config: NotificationsConfig = {
      port: 0,
      databaseUrl: POSTGRES_URL,
      schema,
      rabbitMqUrl: RABBITMQ_URL,
      exchange,
      namespace,
      failureRate: 0.5,
      unregisteredUsers: ['zoe'],
      // Retries after 50, 150 and 450 ms: tier queues .retry.50ms, .retry.150ms and .retry.450ms.
      maxAttempts: 4,
      retryDelayMs: 50,
    };
    app = await NestFactory.create(NotificationsAppModule.forRoot(config, { transport, push }), { logger: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    raw = await connect(RABBITMQ_URL);
    raw.on('error', () => undefined);
  });

  afterAll(async () => {
    await app?.close();
    if (raw) {
      await removeTopology(raw, [transport], exchange);
      await raw.close();
    }
    await dropSchemas([schema]);
  }, 30_000);

  const list = async (userId: string): Promise<NotificationView[]> => {
    const response = await fetch(`${base}/notifications?userId=${userId}`);
    return ((await response.json()) as { items: NotificationView[] }).items;
  };

  it('dead-letters a push to a user without a device after 1 attempt, and retries a transient failure to delivery', async () => {
    const toAna = one<QuestionAsked>(
      enveloper.wrap(new QuestionAsked(globalThis.crypto.randomUUID(), 'Why?', '', 'physics', 7, 'ana', now())),
    );
    const toZoe = one<QuestionAsked>(
      enveloper.wrap(new QuestionAsked(globalThis.crypto.randomUUID(), 'How?', '', 'physics', 7, 'zoe', now())),
    );
    await transport.publish([toAna, toZoe]);
    const askers = app.get(DataSource);
    await eventually(async () => {
      const rows: unknown[] = await askers.query(`SELECT 1 FROM "${schema}".askers`);
      expect(rows).toHaveLength(2);
    });

    const answerToZoe = one<AnswerAdded>(
      enveloper.wrap(new AnswerAdded(globalThis.crypto.randomUUID(), toZoe.data.questionId, 'x', 'ben', now())),
    );
    const answerToAna = one<AnswerAdded>(
      enveloper.wrap(new AnswerAdded(globalThis.crypto.randomUUID(), toAna.data.questionId, 'y', 'ben', now())),
    );
    await transport.publish([answerToZoe, answerToAna]);

    // Transient: fails twice, waits in .retry.50ms and .retry.150ms, then is delivered and listed once.
    const listed = await eventually(
      async () => {
        const items = await list('ana');
        expect(items).toHaveLength(1);
        return items;
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(listed[0]).toMatchObject({ answerId: answerToAna.data.answerId, userId: 'ana', answererId: 'ben' });
    expect(push.delivered.map((p) => p.collapseKey)).toEqual([answerToAna.data.answerId]);
    expect(push.attempts).toBe(4); // zoe once, ana three times

    // Permanent: one message in the DLQ, with the reason in its headers.
    const channel = await raw.createChannel();
    await eventually(
      async () => {
        expect((await channel.checkQueue(`${answersQueue}.dlq`)).messageCount).toBe(1);
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    const letter = await channel.get(`${answersQueue}.dlq`, { noAck: true });
    expect(letter && letter.properties.messageId).toBe(answerToZoe.id);
    expect(letter && deadLetterReasonOf(letter.properties.headers ?? {})).toMatchObject({
      code: 'NOTIFY_UNKNOWN_DEVICE',
      errorName: 'UnknownDeviceError',
      attempts: 1,
      routingKey: 'qa.answer.added',
      subscription: answersQueue,
    });
    expect(await list('zoe')).toEqual([]);

    // The retry tiers are the configured schedule, and nothing is left waiting in them.
    const tiers = transport.declaredTopology().find((t) => t.queue === answersQueue)?.retryQueues;
    expect(tiers).toEqual([`${answersQueue}.retry.50ms`, `${answersQueue}.retry.150ms`, `${answersQueue}.retry.450ms`]);
    for (const tier of tiers ?? []) expect((await channel.checkQueue(tier)).messageCount).toBe(0);
    expect((await channel.checkQueue(answersQueue)).messageCount).toBe(0);
    await channel.close();
  }, 30_000);
});
