import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { IntegrationEvent, MemoryTransport, type EventContext } from '@tidings/core';
import { EventBus, EventBusModule, OnEvent } from '@tidings/nestjs';
import { EventBusTestHarness } from '@tidings/testing';

// The README's quickstart, verbatim apart from `push`, which records instead of printing.
const pushed: string[] = [];
const push = async (userId: string, text: string) => void pushed.push(`${userId}: ${text}`);

@IntegrationEvent('qa.answer.added') // the wire name: routing key and contract between services
export class AnswerAdded {
  constructor(
    readonly answerId: string,
    readonly questionId: string,
    readonly askerId: string,
  ) {}
}

@Injectable()
export class NotifyAsker {
  @OnEvent(AnswerAdded, { retry: { maxAttempts: 4 } }) // queue: notifications.notify-asker.on-answer-added
  async onAnswerAdded(event: AnswerAdded, context: EventContext): Promise<void> {
    await push(event.askerId, `New answer to your question (event ${context.envelope.id})`); // throw = retry
  }
}

@Module({
  imports: [EventBusModule.forRoot({ service: 'notifications', transport: new MemoryTransport() })],
  providers: [NotifyAsker],
})
export class AppModule {}

describe('README quickstart', () => {
  it('handles a published event once, through the harness', async () => {
    const harness = await EventBusTestHarness.create({ imports: [AppModule] });
    const session = await harness.publish(new AnswerAdded('a1', 'q1', 'alice'));
    expect(session.handledOf('qa.answer.added')).toHaveLength(1);
    expect(harness.deadLetters()).toHaveLength(0);
    await harness.close();
    expect(pushed).toEqual([expect.stringMatching(/^alice: New answer to your question \(event [0-9a-f-]{36}\)$/)]);
  });

  it('runs as a plain application module too', async () => {
    const { Test } = await import('@nestjs/testing');
    const module = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await module.init();
    const [envelope] = await module.get(EventBus).publish(new AnswerAdded('a2', 'q1', 'carol'), { partitionKey: 'q1' });
    expect(envelope).toMatchObject({ type: 'qa.answer.added', source: 'notifications', partitionkey: 'q1' });
    await module.close();
  });
});
