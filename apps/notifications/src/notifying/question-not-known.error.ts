import { RetryableError } from '@tidings/core';

/**
 * An answer arrived before its question: the asker is learned from `qa.question.asked`, which travels through another
 * queue and has not been handled yet. Transient: the event bus redelivers the answer later, by when it usually has.
 */
export class QuestionNotKnownError extends RetryableError {
  override readonly code = 'NOTIFY_QUESTION_NOT_KNOWN';

  constructor(questionId: string, answerId: string) {
    super(`Answer ${answerId} is to question ${questionId}, whose asker is not known yet (no qa.question.asked handled for it)`, {
      context: { questionId, answerId },
      hint: 'Retried later. If it is dead-lettered, check the askers subscription for a backlog or a dead-lettered question, then replay.',
    });
  }
}
