import { Injectable } from '@nestjs/common';
import { OnEvent } from '@tidings/nestjs';
import { TypeOrmInboxStore } from '@tidings/typeorm';
import { QuestionAsked } from '../../../qa-events/src/index.js';
import { NotificationRows } from './notification.rows.js';

/** Keeps who asked each question, since `qa.answer.added` names only the question (queue `<service>.askers`). */
@Injectable()
export class LearnAskers {
  constructor(
    private readonly inbox: TypeOrmInboxStore,
    private readonly rows: NotificationRows,
  ) {}

  @OnEvent(QuestionAsked, { subscription: 'askers', transactional: true })
  async onQuestionAsked(question: QuestionAsked): Promise<void> {
    await this.rows.upsertAsker(this.inbox.manager(), {
      questionId: question.questionId,
      askerId: question.authorId,
      title: question.title,
    });
  }
}
