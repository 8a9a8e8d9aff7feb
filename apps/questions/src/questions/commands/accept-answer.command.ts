import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { TypeOrmOutbox } from '@tidings/typeorm';
import { AnswerAccepted } from '../../../../qa-events/src/index.js';
import { AnotherAnswerAcceptedError, AnswerNotFoundError, QuestionNotFoundError } from '../question.errors.js';
import { QuestionRows } from '../question.rows.js';
import type { QuestionView } from '../question.view.js';

export class AcceptAnswer extends Command<QuestionView> {
  constructor(
    readonly questionId: string,
    readonly answerId: string,
  ) {
    super();
  }
}

/**
 * Marks the answer accepted and records `qa.answer.accepted`, in one transaction. Accepting the
 * accepted answer again changes nothing and publishes nothing; accepting another one is a conflict.
 */
@CommandHandler(AcceptAnswer)
export class AcceptAnswerHandler implements ICommandHandler<AcceptAnswer> {
  constructor(
    private readonly outbox: TypeOrmOutbox,
    private readonly rows: QuestionRows,
  ) {}

  async execute({ questionId, answerId }: AcceptAnswer): Promise<QuestionView> {
    return this.outbox.transactions.run(async (manager) => {
      const question = await this.rows.lockQuestion(manager, questionId);
      if (!question) throw new QuestionNotFoundError(questionId);
      if (!(await this.rows.findAnswer(manager, questionId, answerId))) throw new AnswerNotFoundError(questionId, answerId);
      if (question.acceptedAnswerId === answerId) return question;
      if (question.acceptedAnswerId !== null) throw new AnotherAnswerAcceptedError(questionId, question.acceptedAnswerId);
      await this.rows.accept(manager, questionId, answerId);
      await this.outbox.publish(new AnswerAccepted(questionId, answerId, new Date().toISOString()), {
        partitionKey: questionId,
        subject: questionId,
      });
      return { ...question, acceptedAnswerId: answerId };
    });
  }
}
