import { Injectable } from '@nestjs/common';
import { OnEvent } from '@tidings/nestjs';
import { TypeOrmInboxStore } from '@tidings/typeorm';
import { AnswerAdded } from '../../../qa-events/src/index.js';
import { PushProvider } from '../push/push-provider.js';
import { NotificationRows } from './notification.rows.js';
import { QuestionNotKnownError } from './question-not-known.error.js';

/**
 * Tells the asker about each new answer (queue `<service>.answers`). Failures are the push provider's error classes,
 * and the event bus acts on them: `PushUnavailableError` (and {@link QuestionNotKnownError}) retry on the module's
 * schedule, then dead-letter; `UnknownDeviceError` dead-letters at once. Nothing here catches.
 */
@Injectable()
export class NotifyAsker {
  constructor(
    private readonly inbox: TypeOrmInboxStore,
    private readonly rows: NotificationRows,
    private readonly push: PushProvider,
  ) {}

  /**
   * Runs in the delivery's transaction with its inbox row: the notification row and the inbox row commit together
   * before the ack, so a redelivery after the commit is skipped without pushing again.
   *
   * The push itself is outside the database. If the process dies (or the commit fails) after `send` resolved and
   * before the commit, both rows roll back, the broker redelivers, and the asker gets a second push: pushes are
   * at-least-once. That is why the push carries the answer id as its collapse key (real providers fold repeats),
   * and why the row is keyed by answer id: however many pushes, one notification is listed per answer.
   *
   * The subscription uses group commit (the default): answers that arrive together share one transaction, each in its
   * own savepoint (the service's inbox sets `savepoints: 'always'`, so no handler runs twice because another one of
   * its group failed), and a push that fails rolls back only its own answer. The handler code is the same either way.
   */
  @OnEvent(AnswerAdded, { subscription: 'answers', transactional: true })
  async onAnswerAdded(answer: AnswerAdded): Promise<void> {
    const manager = this.inbox.manager();
    const asker = await this.rows.findAsker(manager, answer.questionId);
    // Events of one question come through two queues, so an answer can overtake its question: wait for it, never drop.
    if (!asker) throw new QuestionNotKnownError(answer.questionId, answer.answerId);
    // Answering one's own question tells nobody anything; the message is acked with no notification.
    if (asker.askerId === answer.authorId) return;

    const text = `${answer.authorId} answered your question “${asker.title}”`;
    await this.push.send({ userId: asker.askerId, title: 'New answer', body: text, collapseKey: answer.answerId });
    await this.rows.insertNotification(manager, {
      answerId: answer.answerId,
      questionId: answer.questionId,
      userId: asker.askerId,
      answererId: answer.authorId,
      text,
      deliveredAt: new Date().toISOString(),
    });
  }
}
