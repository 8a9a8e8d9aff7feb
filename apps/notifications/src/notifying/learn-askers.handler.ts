import { Injectable } from '@nestjs/common';
import type { BatchedEvent } from '@tidings/core';
import { OnEvent } from '@tidings/nestjs';
import { TypeOrmInboxStore } from '@tidings/typeorm';
import { QuestionAsked } from '../../../qa-events/src/index.js';
import { NotificationRows } from './notification.rows.js';

/**
 * Keeps who asked each question, since `qa.answer.added` names only the question (queue `<service>.askers`).
 *
 * A batch handler: it only writes rows, so the questions that arrive together are stored with one statement, in one
 * transaction with their inbox rows. (If that statement fails, the event bus stores them again one at a time, so one bad
 * question cannot hold back the rest.) {@link NotifyAsker} stays a per-event handler: it calls a push provider per answer.
 */
@Injectable()
export class LearnAskers {
  constructor(
    private readonly inbox: TypeOrmInboxStore,
    private readonly rows: NotificationRows,
  ) {}

  @OnEvent(QuestionAsked, { subscription: 'askers', transactional: true, batch: { size: 100 } })
  async onQuestionsAsked(questions: readonly BatchedEvent<QuestionAsked>[]): Promise<void> {
    await this.rows.upsertAskers(
      this.inbox.manager(),
      questions.map(({ data }) => ({ questionId: data.questionId, askerId: data.authorId, title: data.title })),
    );
  }
}
