import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { IntegrationEvent, NonRetryableError, type EventContext, type StandardSchemaV1 } from '@tidings/core';
import { EventBus, OnEvent } from '@tidings/nestjs';
import { EventBusTestHarness } from '@tidings/testing';

// The story of the sample, in miniature: a questions module publishes, a notifications module handles.

interface AnswerAddedData {
  readonly answerId: string;
  readonly questionId: string;
  readonly authorId: string;
}

const answerSchema: StandardSchemaV1<unknown, AnswerAddedData> = {
  '~standard': {
    version: 1,
    vendor: 'e2e',
    validate: (value) => {
      const v = value as Partial<AnswerAddedData> | null;
      return typeof v?.answerId === 'string' && typeof v.questionId === 'string' && typeof v.authorId === 'string'
        ? { value: v as AnswerAddedData }
        : { issues: [{ message: 'answerId, questionId and authorId must be strings' }] };
    },
  },
};

@IntegrationEvent('e2e.question.asked')
class QuestionAsked {
  constructor(
    readonly questionId: string,
    readonly title: string,
  ) {}
}

@IntegrationEvent('e2e.answer.added', { schema: answerSchema })
class AnswerAdded implements AnswerAddedData {
  constructor(
    readonly answerId: string,
    readonly questionId: string,
    readonly authorId: string,
  ) {}
}

@IntegrationEvent('e2e.asker.notified')
class AskerNotified {
  constructor(readonly answerId: string) {}
}

@Injectable()
class QuestionsService {
  constructor(private readonly bus: EventBus) {}

  async ask(questionId: string, title: string): Promise<void> {
    await this.bus.publish(new QuestionAsked(questionId, title), { partitionKey: questionId });
  }

  async answer(answerId: string, questionId: string): Promise<void> {
    await this.bus.publish(new AnswerAdded(answerId, questionId, 'bob'), { partitionKey: questionId });
  }
}

@Module({ providers: [QuestionsService], exports: [QuestionsService] })
class QuestionsModule {}

/** Effects are recorded per event id, so "exactly once in effect" is a count. */
@Injectable()
class EffectLedger {
  readonly effects = new Map<string, number>();
  readonly calls = new Map<string, number>();

  call(key: string): number {
    const n = (this.calls.get(key) ?? 0) + 1;
    this.calls.set(key, n);
    return n;
  }

  effect(key: string): void {
    this.effects.set(key, (this.effects.get(key) ?? 0) + 1);
  }
}

@Injectable()
class FeedIndexer {
  constructor(private readonly ledger: EffectLedger) {}

  @OnEvent(QuestionAsked, { subscription: 'feed' })
  onQuestionAsked(event: QuestionAsked, context: EventContext): void {
    this.ledger.call(`feed:${context.envelope.id}`);
    this.ledger.effect(`feed:${event.questionId}`);
  }
}

@Injectable()
class FlakyNotifier {
  constructor(
    private readonly ledger: EffectLedger,
    private readonly bus: EventBus,
  ) {}

  // Fails the first two attempts of every event, as a push provider with hiccups would.
  @OnEvent(AnswerAdded, { subscription: 'push', retry: { maxAttempts: 4, tiersMs: [10, 50] } })
  async onAnswerAdded(event: AnswerAdded, context: EventContext): Promise<void> {
    if (this.ledger.call(`push:${context.envelope.id}`) <= 2) throw new Error('push provider timed out');
    this.ledger.effect(`push:${event.answerId}`);
    await this.bus.publish(new AskerNotified(event.answerId), { causedBy: context.envelope });
  }
}

@Injectable()
class BrokenAuditor {
  constructor(private readonly ledger: EffectLedger) {}

  @OnEvent(AnswerAdded, { subscription: 'audit', retry: { maxAttempts: 3, tiersMs: [10] } })
  onAnswerAdded(_event: AnswerAdded, context: EventContext): void {
    this.ledger.call(`audit:${context.envelope.id}`);
    throw new Error('audit store is misconfigured');
  }

  @OnEvent(QuestionAsked, { subscription: 'audit-questions' })
  onQuestionAsked(_event: QuestionAsked, context: EventContext): void {
    this.ledger.call(`audit-questions:${context.envelope.id}`);
    throw new NonRetryableError('questions are not audited');
  }
}

@Injectable()
class NotificationLog {
  readonly notified: string[] = [];

  @OnEvent(AskerNotified)
  onNotified(event: AskerNotified): void {
    this.notified.push(event.answerId);
  }
}

@Module({ providers: [EffectLedger, FeedIndexer, FlakyNotifier, BrokenAuditor, NotificationLog], exports: [EffectLedger, NotificationLog] })
class NotificationsModule {}

describe('EventBusModule end to end (memory transport)', () => {
  let harness: EventBusTestHarness;
  let ledger: EffectLedger;
  let questions: QuestionsService;

  beforeEach(async () => {
    harness = await EventBusTestHarness.create({ service: 'qa', imports: [QuestionsModule, NotificationsModule] });
    ledger = harness.get(EffectLedger);
    questions = harness.get(QuestionsService);
  });

  afterEach(() => harness.close());

  it('delivers an event published in one module to a handler in another, once per event', async () => {
    const session = await harness.track(async () => {
      for (let i = 0; i < 10; i++) await questions.ask(`q${i}`, `Question ${i}`);
    });

    expect(session.published.filter((m) => m.type === 'e2e.question.asked')).toHaveLength(10);
    expect(session.handledOf('e2e.question.asked', 'qa.feed')).toHaveLength(10);
    for (let i = 0; i < 10; i++) expect(ledger.effects.get(`feed:q${i}`)).toBe(1);
  });

  it('retries a flaky handler to success: 3 attempts, 1 effect, and its follow-up event is handled', async () => {
    const session = await harness.track(() => questions.answer('a1', 'q1'));

    const pushAttempts = [...session.retried, ...session.handled].filter((d) => d.subscription === 'qa.push').map((d) => d.attempt);
    expect(pushAttempts.sort()).toEqual([1, 2, 3]);
    expect(ledger.effects.get('push:a1')).toBe(1);
    expect(harness.get(NotificationLog).notified).toEqual(['a1']);
    const followUp = session.published.find((m) => m.type === 'e2e.asker.notified');
    const cause = session.published.find((m) => m.type === 'e2e.answer.added');
    expect(followUp?.message.attributes['causationid']).toBe(cause?.id);
    expect(session.deadLettersOf().filter((d) => d.subscription === 'qa.push')).toHaveLength(0);
  });

  it('dead-letters a broken handler after the configured attempts, with the reason', async () => {
    const session = await harness.track(() => questions.answer('a2', 'q1'));

    const [letter, ...others] = harness.deadLetters('qa.audit');
    expect(others).toHaveLength(0);
    expect(letter?.reason).toMatchObject({
      code: 'TIDINGS_HANDLER_FAILED',
      errorName: 'Error',
      message: 'audit store is misconfigured',
      attempts: 3,
      routingKey: 'e2e.answer.added',
      subscription: 'qa.audit',
    });
    const id = session.published.find((m) => m.type === 'e2e.answer.added')?.id ?? '';
    expect(ledger.calls.get(`audit:${id}`)).toBe(3);
    // The other subscription of the same event was not affected by the broken one.
    expect(ledger.effects.get('push:a2')).toBe(1);
  });

  it('dead-letters a NonRetryableError after exactly one attempt', async () => {
    const session = await harness.track(() => questions.ask('q9', 'Not audited'));

    const letters = session.deadLettersOf('e2e.question.asked');
    expect(letters).toHaveLength(1);
    expect(letters[0]?.reason).toMatchObject({ code: 'TIDINGS_NON_RETRYABLE', attempts: 1, subscription: 'qa.audit-questions' });
    expect(ledger.calls.get(`audit-questions:${letters[0]?.id}`)).toBe(1);
    expect(ledger.effects.get('feed:q9')).toBe(1);
  });

  it('dead-letters a malformed message after one attempt without calling any handler', async () => {
    const attributes = {
      specversion: '1.0',
      id: 'malformed-1',
      type: 'e2e.answer.added',
      source: 'somewhere',
      time: new Date().toISOString(),
    };
    const session = await harness.publishRaw({
      routingKey: 'e2e.answer.added',
      contentType: 'application/json',
      attributes,
      body: new TextEncoder().encode('{"answerId": "a3", '),
    });

    const letters = session.deadLettersOf('e2e.answer.added');
    expect(letters.map((l) => l.subscription).sort()).toEqual(['qa.audit', 'qa.push']);
    for (const letter of letters) expect(letter.reason).toMatchObject({ code: 'TIDINGS_DECODE_FAILED', attempts: 1 });
    expect(session.retried).toHaveLength(0);
    expect(ledger.calls.size).toBe(0);
  });

  it('dead-letters a schema violation after one attempt without calling any handler', async () => {
    const session = await harness.publishRaw({
      routingKey: 'e2e.answer.added',
      contentType: 'application/json',
      attributes: { specversion: '1.0', id: 'invalid-1', type: 'e2e.answer.added', source: 'somewhere', time: new Date().toISOString() },
      body: new TextEncoder().encode(JSON.stringify({ answerId: 42 })),
    });

    const letters = session.deadLettersOf('e2e.answer.added');
    expect(letters).toHaveLength(2);
    for (const letter of letters) expect(letter.reason).toMatchObject({ code: 'TIDINGS_EVENT_INVALID', attempts: 1 });
    expect(ledger.calls.size).toBe(0);
  });

  it('counts: 100 answers → 100 push effects, 100 audit dead letters, 0 lost', async () => {
    await harness.track(async () => {
      for (let i = 0; i < 100; i++) await questions.answer(`n${i}`, `q${i % 7}`);
    });

    const pushEffects = [...ledger.effects].filter(([key]) => key.startsWith('push:'));
    expect(pushEffects).toHaveLength(100);
    expect(pushEffects.every(([, count]) => count === 1)).toBe(true);
    expect(harness.deadLetters('qa.audit')).toHaveLength(100);
    expect(harness.get(NotificationLog).notified).toHaveLength(100);
  });
});
