import 'reflect-metadata';
import { Injectable, Module, type LoggerService } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { eventually, IntegrationEvent, Latch, NonRetryableError, type EventContext } from '@tidings/core';
import { EventBus, EventBusModule, OnEvent } from '@tidings/nestjs';
import { deadLetterReasonOf, RabbitMqTransport } from '@tidings/rabbitmq';
import { RABBITMQ_URL, silentLogger, uniquePrefix } from './rabbitmq-conformance.target.js';

// Two Nest applications, as two services would be, talking through the real broker.
const prefix = uniquePrefix('nest');
const word = prefix.replace(/[^a-z0-9-]/g, '');
const exchange = `${prefix}events`;
const quiet: LoggerService = silentLogger;

@IntegrationEvent(`${word}.answer.added`)
class AnswerAdded {
  constructor(
    readonly answerId: string,
    readonly askerId: string,
  ) {}
}

/** Effects per answer id, and calls per event id, so every claim is a count. */
@Injectable()
class Ledger {
  readonly pushed = new Map<string, number>();
  readonly auditCalls = new Map<string, number>();
  readonly pushCalls = new Map<string, number>();
  readonly done = new Latch('pushed', 20);
}

@Injectable()
class PushNotifier {
  constructor(private readonly ledger: Ledger) {}

  @OnEvent(AnswerAdded, { subscription: 'push', retry: { maxAttempts: 4, tiersMs: [50, 200], initialDelayMs: 50 } })
  onAnswerAdded(event: AnswerAdded, context: EventContext): void {
    const calls = (this.ledger.pushCalls.get(context.envelope.id) ?? 0) + 1;
    this.ledger.pushCalls.set(context.envelope.id, calls);
    if (calls === 1) throw new Error('push provider timed out'); // transient: every event fails once
    this.ledger.pushed.set(event.answerId, (this.ledger.pushed.get(event.answerId) ?? 0) + 1);
    this.ledger.done.arrive();
  }

  @OnEvent(AnswerAdded, { subscription: 'audit' })
  audit(_event: AnswerAdded, context: EventContext): void {
    this.ledger.auditCalls.set(context.envelope.id, (this.ledger.auditCalls.get(context.envelope.id) ?? 0) + 1);
    throw new NonRetryableError('audit log is read-only');
  }
}

@Module({ providers: [Ledger, PushNotifier], exports: [Ledger] })
class NotificationsModule {}

const transport = (service: string) =>
  new RabbitMqTransport({ url: RABBITMQ_URL, exchange, connectionName: `${prefix}${service}`, logger: silentLogger });

async function app(service: string, imports: unknown[] = []): Promise<TestingModule> {
  const module = await Test.createTestingModule({
    imports: [
      EventBusModule.forRoot({ service: `${word}-${service}`, transport: transport(service), logger: quiet }),
      ...(imports as never[]),
    ],
  }).compile();
  await module.init();
  return module;
}

describe('EventBusModule on the real RabbitMQ', () => {
  let questions: TestingModule;
  let notifications: TestingModule;

  afterAll(async () => {
    await questions?.close();
    await notifications?.close();
    const { connect } = await import('amqplib');
    const raw = await connect(RABBITMQ_URL);
    const channel = await raw.createChannel();
    // push retries on 50ms/200ms tiers, audit on the default 1s/10s/1m; deleting a queue that is not there is fine.
    const suffixes = ['', '.dlq', '.retry.50ms', '.retry.200ms', '.retry.1s', '.retry.10s', '.retry.1m'];
    for (const subscription of ['push', 'audit']) {
      for (const suffix of suffixes) await channel.deleteQueue(`${word}-notifications.${subscription}${suffix}`);
    }
    await channel.deleteExchange(exchange);
    await raw.close();
  }, 30_000);

  it('delivers across services: a transient failure is retried to 1 effect, a NonRetryableError dead-letters after 1 attempt, close drains', async () => {
    notifications = await app('notifications', [NotificationsModule]);
    questions = await app('questions');
    const ledger = notifications.get(Ledger);
    const bus = questions.get(EventBus);

    const published = [];
    for (let i = 0; i < 20; i++) published.push(...(await bus.publish(new AnswerAdded(`a${i}`, 'alice'))));
    await ledger.done.wait(20_000);

    expect([...ledger.pushed.values()]).toEqual(Array.from({ length: 20 }, () => 1));
    expect(published.every((e) => ledger.pushCalls.get(e.id) === 2)).toBe(true);
    // Audit: one attempt each, then the DLQ with the reason.
    const { connect } = await import('amqplib');
    const raw = await connect(RABBITMQ_URL);
    const channel = await raw.createChannel();
    const dlq = `${word}-notifications.audit.dlq`;
    const letters = await eventually(
      async () => {
        const { messageCount } = await channel.checkQueue(dlq);
        expect(messageCount).toBe(20);
        return messageCount;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(letters).toBe(20);
    const letter = await channel.get(dlq, { noAck: false });
    expect(letter && deadLetterReasonOf(letter.properties.headers ?? {})).toMatchObject({ code: 'TIDINGS_NON_RETRYABLE', attempts: 1 });
    if (letter) channel.nack(letter, false, true);
    expect(published.every((e) => ledger.auditCalls.get(e.id) === 1)).toBe(true);
    await raw.close();

    // Shutdown drains and closes every connection: jest exits without --forceExit.
    await notifications.close();
    await questions.close();
  }, 60_000);
});
